/* Video on demand (MP4 from the content cache) and live HLS: OK pauses and plays, back leaves. */
(function () {
  var TV = window.TV;
  var video = document.getElementById('player');
  TV.actions.toggle = function () {
    if (video.paused) { try { video.play(); } catch (e) { /* old players throw */ } } else { video.pause(); }
  };
  video.onerror = function () {
    var note = document.getElementById('player-error');
    note.className = 'note';
  };
}());
