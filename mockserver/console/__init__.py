"""The console page: plain HTML, CSS and JavaScript, served by the server itself."""
