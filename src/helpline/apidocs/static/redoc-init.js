// Starts ReDoc on #redoc with the OpenAPI document named in its data-openapi-url attribute.
"use strict";
(function () {
  var root = document.getElementById("redoc");
  Redoc.init(root.getAttribute("data-openapi-url"), { hideDownloadButton: false }, root);
})();
