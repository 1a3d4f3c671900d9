// Swagger UI from the vendored bundle; the spec URL comes from the script tag (no inline script).
"use strict";
(function () {
  const spec = document.getElementById("docs-init").dataset.spec;
  window.ui = SwaggerUIBundle({
    url: spec,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
