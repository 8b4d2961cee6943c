// The API documentation at /docs: Swagger UI (served by this server, never a CDN) over /openapi.json.
// No validator badge: it would send the document's URL to another site.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
  });
});
