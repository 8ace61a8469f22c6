// A reference MultiHeadAttention written with wasmgrad's ops, matching the API
// the playground's transformer panel expects from the attention layers (which
// live on another branch). Only for testing the panel; not part of the library.
//
//   new MultiHeadAttention(dModel, numHeads): wq, wk, wv, wo [dModel, dModel] ([in, out])
//   forward(q, k, v, { returnWeights }) → { output [B,T,D], weights [B,H,Tq,Tk] }
export function makeShim(wg) {
  return class MultiHeadAttention extends wg.Module {
    constructor(dModel, numHeads) {
      super();
      this.dModel = dModel;
      this.numHeads = numHeads;
      const init = () => wg.parameter(wg.xavierUniform([dModel, dModel]));
      this.wq = init();
      this.wk = init();
      this.wv = init();
      this.wo = init();
    }

    forward(q, k, v, { returnWeights = false } = {}) {
      const [B, T, D] = q.shape;
      const H = this.numHeads, hs = D / H;
      const heads = (x, w) => wg.permute(wg.reshape(wg.matmul(x, w), [B, x.shape[1], H, hs]), [0, 2, 1, 3]); // [B,H,T,hs]
      const Q = heads(q, this.wq), K = heads(k, this.wk), V = heads(v, this.wv);
      const scores = wg.div(wg.matmul(Q, K, { transposeB: true }), Math.sqrt(hs)); // [B,H,Tq,Tk]
      const weights = wg.softmax(scores, -1);
      const ctx = wg.reshape(wg.permute(wg.matmul(weights, V), [0, 2, 1, 3]), [B, T, D]);
      const output = wg.matmul(ctx, this.wo);
      return returnWeights ? { output, weights } : output;
    }
  };
}
