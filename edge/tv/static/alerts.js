/* Emergency alerts: server-sent events when the browser has them, else a long poll, else a short poll.
   An alert covers the screen until OK is pressed; its showing and its acknowledgement are logged per device. */
(function () {
  var TV = window.TV;
  var queue = [];
  var acked = {};
  var showing = null;
  var focusBefore = null;
  /* The token (header, or the cookie for an event stream) says whose acknowledgements to leave out. */
  var q = '?device=' + encodeURIComponent(TV.device);  /* empty before the first registration */
  var source = null;   /* the open event stream or held request, closed when the page goes: a browser has */
  var held = null;     /* only six connections per box, and pages kept for "back" would use them all up */
  var leaving = false;

  function leave() {
    leaving = true;
    if (source) { source.close(); source = null; }
    if (held) { try { held.abort(); } catch (e) { /* already done */ } held = null; }
  }
  if (window.addEventListener) {
    window.addEventListener('pagehide', leave, false);
    window.addEventListener('beforeunload', leave, false);
    window.addEventListener('pageshow', function (e) { if (e.persisted) { location.reload(); } }, false);
  }

  function byId(id) { return document.getElementById(id); }

  function post(what, id, tries) {
    TV.request('POST', '/api/v1/alerts/' + encodeURIComponent(id) + '/' + what, { device_id: TV.device }, function (status) {
      if ((status === 0 || status >= 500) && tries > 1) {
        setTimeout(function () { post(what, id, tries - 1); }, 2000);
      }
    });
  }

  function show(alert) {
    showing = alert;
    byId('alert-title').innerHTML = '';
    byId('alert-title').appendChild(document.createTextNode(alert.title));
    byId('alert-body').innerHTML = '';
    byId('alert-body').appendChild(document.createTextNode(alert.body));
    var videos = document.getElementsByTagName('video');  /* the alert must be heard over a film */
    for (var v = 0; v < videos.length; v++) { try { videos[v].pause(); } catch (e) { /* not started */ } }
    focusBefore = focusBefore || TV.focused();
    TV.alertOpen = true;
    TV.removeClass(byId('alert'), 'off');
    TV.focus(byId('alert-ok'));
    post('shown', alert.id, 3);
  }

  function next() {
    while (queue.length && acked[queue[0].id]) { queue.shift(); }
    if (queue.length) { show(queue.shift()); return; }
    showing = null;
    TV.alertOpen = false;
    TV.addClass(byId('alert'), 'off');
    if (focusBefore) { TV.focus(focusBefore); } else { TV.focusStart(); }
    focusBefore = null;
  }

  TV.ackAlert = function () {
    if (!showing) { return; }
    acked[showing.id] = true;
    post('ack', showing.id, 5);
    next();
  };
  TV.actions['ack-alert'] = function () { TV.ackAlert(); };

  function take(data) {
    if (!data || !data.alerts) { return; }
    for (var i = data.alerts.length - 1; i >= 0; i--) {
      var a = data.alerts[i];
      var known = acked[a.id] || (showing && showing.id === a.id);
      for (var j = 0; j < queue.length && !known; j++) { if (queue[j].id === a.id) { known = true; } }
      if (!known) { queue.push(a); }
    }
    if (!showing && queue.length) { next(); }
  }

  function shortPoll() {
    TV.alertMode = 'shortpoll';
    function tick() {
      if (leaving) { return; }
      held = TV.request('GET', '/api/v1/alerts' + q, null, function (status, data) {
        if (status === 200) { take(data); }
        setTimeout(tick, TV.shortPollS * 1000);
      });
    }
    tick();
  }

  function longPoll() {
    TV.alertMode = 'longpoll';
    var version = -1;
    var failures = 0;
    function ask() {
      if (leaving) { return; }
      held = TV.request('GET', '/api/v1/alerts/wait' + q + '&version=' + version, null, function (status, data) {
        if (status === 200 && data) {
          failures = 0;
          version = data.version;
          take(data);
          setTimeout(ask, 10);
        } else if (++failures >= 3) {
          shortPoll();  /* something between us and the box cuts held requests */
        } else {
          setTimeout(ask, 2000);
        }
      }, (TV.longPollS + 15) * 1000);
    }
    ask();
  }

  function events() {
    TV.alertMode = 'sse';
    var got = false;
    source = new window.EventSource('/api/v1/alerts/events' + q);
    source.addEventListener('alerts', function (e) {
      got = true;
      try { take(JSON.parse(e.data)); } catch (err) { /* a broken message: the next one will do */ }
    }, false);
    source.onerror = function () {
      if (leaving || !source) { return; }
      if (!got || source.readyState === 2) { source.close(); source = null; longPoll(); }
    };
  }

  var mode = TV.alertTransport;
  if (mode === 'shortpoll') { shortPoll(); }
  else if (mode === 'longpoll' || !window.EventSource) { longPoll(); }
  else { events(); }
}());
