/* Settings: the household pairing code, when this box offers pairing (an honest sentence otherwise). */
(function () {
  var TV = window.TV;
  if (!TV.token) { return; }  /* not registered yet: the page registers and reloads */
  TV.request('GET', '/api/v1/pairing', null, function (status, data) {
    if (status === 200 && data && data.code) {
      var el = document.getElementById('pairing');
      el.innerHTML = '';
      el.appendChild(document.createTextNode(TV.text('settings.pairing', { code: data.code })));
    }
  });
}());
