// Strided copy: the one kernel behind transpose/permute, slice, concat and
// their backward rules.
//
//   out[i0·so0 + i1·so1 + i2·so2 + i3·so3] = x[i0·sx0 + i1·sx1 + i2·sx2 + i3·sx3]
//
// for i < [d0, d1, d2, d3]; strides count elements. The TypeScript side
// collapses higher-rank layouts to ≤ 4 dimensions. When both innermost strides
// are 1 each row is a memory.copy; otherwise elements move one by one.

export function copy_strided(
  out: usize, x: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  so0: i32, so1: i32, so2: i32, so3: i32, sx0: i32, sx1: i32, sx2: i32, sx3: i32,
): void {
  const contiguous = so3 == 1 && sx3 == 1;
  const so3b = <usize>so3 << 2;
  const sx3b = <usize>sx3 << 2;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      for (let i2 = 0; i2 < d2; i2++) {
        let po = out + ((<usize>(i0 * so0 + i1 * so1 + i2 * so2)) << 2);
        let px = x + ((<usize>(i0 * sx0 + i1 * sx1 + i2 * sx2)) << 2);
        if (contiguous) {
          memory.copy(po, px, <usize>d3 << 2);
        } else {
          for (let i3 = 0; i3 < d3; i3++) {
            store<f32>(po, load<f32>(px));
            po += so3b;
            px += sx3b;
          }
        }
      }
    }
  }
}
