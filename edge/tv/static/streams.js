/* The live streams this village relays, when the box has a stream list; an honest empty state otherwise. */
(function () {
  var TV = window.TV;
  var list = document.getElementById('streams');
  var area = list.getAttribute('data-area');
  function note(key) {
    var el = document.getElementById('streams-note');
    el.innerHTML = '';
    el.appendChild(document.createTextNode(TV.text(key)));
  }
  TV.request('GET', '/api/v1/streams', null, function (status, data) {
    if (status !== 200 || !data || !data.streams) { note('live.unavailable'); return; }
    var shown = 0;
    for (var i = 0; i < data.streams.length; i++) {
      var s = data.streams[i];
      if (!s.url || (area === 'meetings' && s.area !== 'meetings')) { continue; }  /* not playable (yet) */
      var a = document.createElement('a');
      a.className = 'focusable item';
      a.id = 'stream-' + s.id;
      a.href = '/tv/live/' + encodeURIComponent(s.id) + '?area=' + area + '&title=' + encodeURIComponent(s.title || '');
      var title = document.createElement('span');
      title.className = 'title';
      var state = TV.text(s.state === 'live' ? 'live.state_live' : 'live.state_recorded');
      title.appendChild(document.createTextNode('\u25B6 ' + (s.title || s.id) + ' \u00B7 ' + state));
      a.appendChild(title);
      list.appendChild(a);
      shown++;
    }
    if (shown) { document.getElementById('streams-note').className = 'note off'; } else { note('live.none'); }
  });
}());
