// Row gather and scatter-add: the kernels behind take()/indexSelect (batching
// a shuffled dataset) and Embedding, whose gradient must add up rows for
// repeated indices.
//
//   gather_rows:      out[i, :] = x[idx[i], :]                 (i < n)
//   scatter_add_rows: dx[idx[i], :] += dy[i, :]                (dx pre-filled)
//
// Rows are `rowLen` float32s; idx is int32 and already range-checked.

export function gather_rows(out: usize, x: usize, idx: usize, n: i32, rowLen: i32): void {
  const rowBytes = <usize>rowLen << 2;
  for (let i = 0; i < n; i++) {
    const r = <usize>load<i32>(idx + (<usize>i << 2));
    memory.copy(out + <usize>i * rowBytes, x + r * rowBytes, rowBytes);
  }
}

export function scatter_add_rows(dx: usize, idx: usize, dy: usize, n: i32, rowLen: i32): void {
  const rowBytes = <usize>rowLen << 2;
  for (let i = 0; i < n; i++) {
    const dst = dx + <usize>load<i32>(idx + (<usize>i << 2)) * rowBytes;
    const src = dy + <usize>i * rowBytes;
    let j: usize = 0;
    for (; j + 16 <= rowBytes; j += 16) v128.store(dst + j, f32x4.add(v128.load(dst + j), v128.load(src + j)));
    for (; j < rowBytes; j += 4) store<f32>(dst + j, load<f32>(dst + j) + load<f32>(src + j));
  }
}
