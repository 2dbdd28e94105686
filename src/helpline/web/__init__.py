"""The operator web app: the HTML shell, versioned static assets (ES modules, CSS, catalogues) and the icon sprite."""
