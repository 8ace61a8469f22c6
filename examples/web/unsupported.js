// Loaded only by browsers without ES modules (<script nomodule>): say so instead of showing a blank page.
(function () {
  var show = function () {
    var boot = document.getElementById('boot');
    if (boot) {
      boot.className = 'banner fatal';
      boot.innerHTML = '<strong>This browser is too old for the wasmgrad playground.</strong> ' +
        'It needs JavaScript modules, module Web Workers and WebAssembly: Chrome or Edge 91+, Firefox 114+, or Safari 16.4+.';
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', show);
  else show();
})();
