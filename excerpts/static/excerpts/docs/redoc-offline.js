// ReDoc's sidebar always shows Redocly's logo from Redocly's CDN: no option of ReDoc's turns it off, and the
// documentation loads nothing from elsewhere (excerpts/api/docs.py). So that one image's address is replaced, however
// the bundle sets it (React's setAttribute, or the element's src property), with an empty data: URL; the image fails
// to decode and ReDoc's own error handler removes it. Every other image and attribute is set as asked. Loaded before
// ReDoc's bundle.
(() => {
  "use strict";
  const remoteLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  const local = (value) => (String(value) === remoteLogo ? "data:," : value);

  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    const image = this instanceof HTMLImageElement && String(name).toLowerCase() === "src";
    return setAttribute.call(this, name, image ? local(value) : value);
  };

  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, local(value));
    },
  });
})();
