// Forms with data-confirm="question" ask before they submit. A static file, not an
// inline handler: the Content-Security-Policy runs no inline script.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
