// Save/load codecs for the convolution layers the playground's CNN uses.
//
// trainInWorker sends the model to the worker as saveModel bytes, which needs
// every layer registered with the module registry. This build of wasmgrad
// registers its dense layers (Linear, Sequential, activations, Flatten, …)
// but not Conv2d or MaxPool2d, so the page and the worker both call
// registerConvLayers(wg) before building or loading a CNN. When the library
// registers them itself, its own codecs are kept and this does nothing.

/** Registers Conv2d and MaxPool2d with wg's module registry unless they are registered already. */
export function registerConvLayers(wg) {
  const have = new Set(wg.registeredModules());
  if (!have.has('Conv2d')) {
    wg.registerModule('Conv2d', wg.Conv2d, {
      config: (m) => ({
        inChannels: m.inChannels, outChannels: m.outChannels, kernelSize: [...m.kernelSize], stride: [...m.stride],
        padding: Array.isArray(m.padding) ? [...m.padding] : m.padding, dilation: [...m.dilation], bias: m.bias !== undefined,
      }),
      build: (c) => new wg.Conv2d(c.inChannels, c.outChannels, c.kernelSize, {
        stride: c.stride, padding: c.padding, dilation: c.dilation, bias: c.bias,
      }),
    });
  }
  if (!have.has('MaxPool2d')) {
    wg.registerModule('MaxPool2d', wg.MaxPool2d, {
      config: (m) => ({ kernelSize: [...m.kernelSize], ...m.options }),
      build: ({ kernelSize, ...options }) => new wg.MaxPool2d(kernelSize, options),
    });
  }
}
