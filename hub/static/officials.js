/* The officials' page: forms and buttons talk to the hub's JSON API with the session's CSRF token, uploads show
   their progress, and every refusal shows the hub's own sentence. Plain ES5 and XMLHttpRequest (progress events),
   nothing loaded from outside the hub. */
(function () {
  "use strict";
  var csrfMeta = document.querySelector("meta[name=csrf-token]");
  var CSRF = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var TEXTS = JSON.parse(document.body.getAttribute("data-texts") || "{}");
  var message = document.getElementById("message");

  function say(text, kind) {
    if (!message) { return; }
    message.textContent = text;
    message.className = "message " + (kind || "");
  }

  // A done action that moves on to another page says so there too: the message would otherwise show for only the
  // 0.6 s before the page changes, and an official who looked away would not know it was done.
  var CARRIED = "villagenet.officials.message";
  function carry(text, kind) {
    try { window.sessionStorage.setItem(CARRIED, JSON.stringify({ text: text, kind: kind })); } catch (err) { /* private mode */ }
  }
  (function showCarried() {
    var stored = null;
    try {
      stored = window.sessionStorage.getItem(CARRIED);
      window.sessionStorage.removeItem(CARRIED);
    } catch (err) { stored = null; }
    if (!stored) { return; }
    try { stored = JSON.parse(stored); } catch (err) { return; }
    if (stored && typeof stored.text === "string") { say(stored.text, stored.kind); }
  })();

  function call(method, url, body, onDone, onProgress, contentType) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRF-Token", CSRF);
    xhr.setRequestHeader("Accept", "application/json");
    var payload = null;
    if (body !== undefined && body !== null) {
      if (contentType) {
        xhr.setRequestHeader("Content-Type", contentType);
        payload = body;
      } else {
        xhr.setRequestHeader("Content-Type", "application/json");
        payload = JSON.stringify(body);
      }
    }
    if (onProgress && xhr.upload) {
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { onProgress(e.loaded, e.total); } };
    }
    xhr.onload = function () {
      var answer = {};
      try { answer = JSON.parse(xhr.responseText || "{}"); } catch (err) { answer = {}; }
      if (xhr.status >= 200 && xhr.status < 300) {
        onDone(answer);
      } else {
        var text = answer.detail || TEXTS["js.failed"] + " (" + xhr.status + ")";
        // An org sheet refused lists every bad row by its number.
        if (answer.rows && answer.rows.length) { text = text.split(": ")[0] + "\n" + answer.rows.join("\n"); }
        say(text, "error");
        enableAll();
      }
    };
    xhr.onerror = function () { say(TEXTS["js.no_line"], "error"); enableAll(); };
    xhr.send(payload);
  }

  function disableAll() {
    var buttons = document.querySelectorAll("main button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
  }
  function enableAll() {
    var buttons = document.querySelectorAll("main button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = false; }
  }

  function finish(done, next) {
    var text = done || TEXTS["js.done"];
    say(text, "done");
    if (next) {
      carry(text, "done");
      setTimeout(function () { window.location.href = next; }, 600);
    } else {
      enableAll();
    }
  }

  // A time picked in the browser is a time in Asia/Shanghai, where the city is.
  function shanghai(value) {
    if (!value) { return null; }
    return (value.length === 16 ? value + ":00" : value) + "+08:00";
  }

  // The JSON body of a form: one value per name, lists for checkboxes marked data-list, times in +08:00.
  function collect(form) {
    var body = {};
    var fields = form.querySelectorAll("input[name], select[name], textarea[name]");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "checkbox") {
        if (f.hasAttribute("data-list")) {
          body[f.name] = body[f.name] || [];
          if (f.checked) { body[f.name].push(f.value); }
        } else if (f.checked) {
          body[f.name] = f.value;
        }
      } else if (f.type === "datetime-local") {
        if (f.value) { body[f.name] = shanghai(f.value); }
      } else if (f.value !== "") {
        body[f.name] = f.value;
      }
    }
    return body;
  }

  // Forms marked data-api post their fields as JSON.
  var forms = document.querySelectorAll("form[data-api]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", function (e) {
      e.preventDefault();
      var form = e.target;
      var body = collect(form);
      var same = form.getAttribute("data-same");
      if (same) {
        var parts = same.split(":");
        if (body[parts[0]] !== document.querySelector(parts[1]).value) { say(TEXTS["js.not_same"], "error"); return; }
      }
      disableAll();
      call("POST", form.getAttribute("data-api"), body, function () {
        finish(form.getAttribute("data-done"), form.getAttribute("data-next"));
      });
    });
  }

  // Buttons marked data-post: one action (approve, reject with a reason, submit, disable).
  var buttons = document.querySelectorAll("button[data-post]");
  for (var j = 0; j < buttons.length; j++) {
    buttons[j].addEventListener("click", function (e) {
      var button = e.target;
      var body = {};
      var question = button.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { return; }
      var need = button.getAttribute("data-need");
      if (need && !document.querySelector(need).value.trim()) {
        say(TEXTS["js.reason_needed"], "error");
        document.querySelector(need).focus();
        return;
      }
      var withField = button.getAttribute("data-with");
      if (withField) {
        var pair = withField.split(":");
        body[pair[0]] = document.querySelector(pair[1]).value.trim();
      }
      disableAll();
      call("POST", button.getAttribute("data-post"), body, function () {
        finish(button.getAttribute("data-done"), button.getAttribute("data-next"));
      });
    });
  }

  // The org sheet (.xlsx or .csv) goes up as it is; the hub imports all of it or nothing.
  var importForm = document.getElementById("import-form");
  if (importForm) {
    importForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var sheet = document.getElementById("import-file").files[0];
      if (!sheet) { say(TEXTS["js.choose_sheet"], "error"); return; }
      disableAll();
      say(TEXTS["js.importing"], "");
      call("POST", "/api/v1/org/import?name=" + encodeURIComponent(sheet.name), sheet, function (answer) {
        finish(TEXTS["js.imported"].replace("{towns}", answer.towns).replace("{villages}", answer.villages)
          .replace("{units}", answer.units), importForm.getAttribute("data-next"));
      }, null, "application/octet-stream");
    });
  }

  // The notice editor: uploads with a progress bar, then save (create or edit), then submit or publish.
  var editor = document.getElementById("notice-form");
  if (editor) {
    var list = document.getElementById("attachments");
    var bar = document.getElementById("upload-progress");
    var percent = document.getElementById("upload-percent");
    var file = document.getElementById("attach-file");
    var uploading = 0;

    var addRemove = function (li) {
      var remove = li.querySelector(".remove-attachment");
      if (remove) { remove.addEventListener("click", function () { list.removeChild(li); }); }
    };
    var existing = list.querySelectorAll("li");
    for (var k = 0; k < existing.length; k++) { addRemove(existing[k]); }

    var upload = function (f) {
      uploading += 1;
      bar.value = 0;
      percent.textContent = f.name + " 0%";
      call("POST", "/api/v1/blobs", f, function (answer) {
        uploading -= 1;
        bar.value = 100;
        percent.textContent = f.name + " " + TEXTS["js.uploaded"];
        var li = document.createElement("li");
        li.setAttribute("data-sha256", answer.sha256);
        li.setAttribute("data-mime", f.type || "application/octet-stream");
        var label = document.createElement("span");
        label.textContent = f.name + " · " + Math.ceil(answer.size / 1024) + " KB ";
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link remove-attachment";
        remove.textContent = TEXTS["js.remove"];
        li.appendChild(label);
        li.appendChild(remove);
        list.appendChild(li);
        addRemove(li);
      }, function (loaded, total) {
        var p = Math.floor(loaded * 100 / total);
        bar.value = p;
        percent.textContent = f.name + " " + p + "%";
      }, f.type || "application/octet-stream");
    };
    file.addEventListener("change", function () {
      for (var n = 0; n < file.files.length; n++) { upload(file.files[n]); }
      file.value = "";
    });

    var save = function (then) {
      if (uploading > 0) { say(TEXTS["js.wait_upload"], "error"); return; }
      var body = collect(editor);
      if (then === "publish" && body.priority !== "emergency") { say(TEXTS["js.emergency_only"], "error"); return; }
      delete body.target;
      var boxes = editor.querySelectorAll("input[name=target]");
      var targets = [];
      for (var b = 0; b < boxes.length; b++) { if (boxes[b].checked) { targets.push(boxes[b].value); } }
      if (!body.title || !body.body) { say(TEXTS["js.title_body_needed"], "error"); return; }
      if (!targets.length) { say(TEXTS["js.targets_needed"], "error"); return; }
      body.scope = targets.join(",");
      body.attachments = [];
      var items = list.querySelectorAll("li");
      for (var a = 0; a < items.length; a++) {
        body.attachments.push({sha256: items[a].getAttribute("data-sha256"), mime: items[a].getAttribute("data-mime")});
      }
      if (!body.publish_at) { body.publish_at = null; }
      if (!body.expires_at) { body.expires_at = null; }
      var id = editor.getAttribute("data-notice-id");
      disableAll();
      say(TEXTS["js.saving"], "");
      call(id ? "PATCH" : "POST", id ? "/api/v1/notices/" + id : "/api/v1/notices", body, function (notice) {
        editor.setAttribute("data-notice-id", notice.id);
        if (!then) { finish(TEXTS["js.saved"], "/admin/"); return; }
        call("POST", "/api/v1/notices/" + notice.id + "/" + then, {}, function () {
          finish(then === "submit" ? TEXTS["js.submitted"] : TEXTS["js.published"], "/admin/");
        });
      });
    };
    var actions = editor.querySelectorAll(".actions button");
    for (var m = 0; m < actions.length; m++) {
      actions[m].addEventListener("click", function (e) { save(e.target.getAttribute("data-then")); });
    }
  }
}());
