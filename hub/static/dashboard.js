/* The dashboard's charts, drawn with the hub's own Apache ECharts from the figures the page carries as a JSON data
   block (#dashboard-data): trend by week, rates by town, satisfaction distribution, and the villages on lon/lat
   axes (no map tiles: intranets have no internet), coloured by online state or by overdue cases. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var TEXTS = JSON.parse(document.body.getAttribute("data-texts") || "{}");
  function tr(key) { return TEXTS[key] || key; }
  function pct(v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }
  var charts = [];
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    var c = window.echarts.init(el);
    option.animation = false;  // a projected or printed page shows the figures at once, not on their way there
    c.setOption(option);
    charts.push(c);
    return c;
  }
  var RATE_AXIS = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
  var LEGEND = { top: 0, textStyle: { fontSize: 13 } };
  var GRID = { left: 48, right: 48, top: 56, bottom: 40 };

  chart("chart-trend", {
    tooltip: { trigger: "axis" }, legend: LEGEND, grid: GRID,
    xAxis: { type: "category", data: data.weeks.map(function (w) { return w.week.slice(5); }) },
    yAxis: [{ type: "value", name: tr("js.dash.received"), minInterval: 1 }, RATE_AXIS],
    series: [
      { name: tr("js.dash.received"), type: "bar", data: data.weeks.map(function (w) { return w.received; }) },
      { name: tr("js.dash.accepted"), type: "line", yAxisIndex: 1, connectNulls: true,
        data: data.weeks.map(function (w) { return pct(w.accepted_on_time_rate); }) },
      { name: tr("js.dash.answered"), type: "line", yAxisIndex: 1, connectNulls: true,
        data: data.weeks.map(function (w) { return pct(w.answered_on_time_rate); }) },
      { name: tr("js.dash.satisfied"), type: "line", yAxisIndex: 1, connectNulls: true,
        data: data.weeks.map(function (w) { return pct(w.satisfied_rate); }) }
    ]
  });

  // A town's (or a village's) dashboard compares its villages: one bar group of the town alone says little.
  var places = data.towns.length > 1 ? data.towns : data.villages;
  chart("chart-towns", {
    tooltip: { trigger: "axis" }, legend: LEGEND, grid: { left: 48, right: 12, top: 56, bottom: 64 },
    xAxis: { type: "category", data: places.map(function (t) { return t.name; }),
             axisLabel: { interval: 0, rotate: places.length > 5 ? 40 : 0 } },
    yAxis: RATE_AXIS,
    series: [
      { name: tr("js.dash.accepted"), type: "bar", data: places.map(function (t) { return pct(t.cases.accepted_on_time_rate); }) },
      { name: tr("js.dash.answered"), type: "bar", data: places.map(function (t) { return pct(t.cases.answered_on_time_rate); }) },
      { name: tr("js.dash.satisfied"), type: "bar", data: places.map(function (t) { return pct(t.cases.satisfaction.satisfied_rate); }) }
    ]
  });

  var dist = data.cases.satisfaction.distribution;
  chart("chart-satisfaction", {
    tooltip: { trigger: "axis" }, grid: { left: 48, right: 12, top: 24, bottom: 40 },
    xAxis: { type: "category", data: ["1", "2", "3", "4", "5"].map(function (s) { return s + tr("js.dash.points"); }) },
    yAxis: { type: "value", minInterval: 1, name: tr("js.dash.ratings") },
    series: [{ type: "bar", name: tr("js.dash.ratings"), label: { show: true, position: "top" },
               data: ["1", "2", "3", "4", "5"].map(function (s, i) {
                 return { value: dist[s], itemStyle: { color: ["#a11212", "#d9622b", "#c99a00", "#5b9b3a", "#0a6b1d"][i] } };
               }) }]
  });

  var placed = data.map.filter(function (v) { return v.latitude !== null && v.longitude !== null; });
  function padded(values) {  // keep villages at the edge off the axes
    if (!values.length) { return {}; }
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values), pad = Math.max((hi - lo) * 0.08, 0.01);
    return { min: Math.floor((lo - pad) * 100) / 100, max: Math.ceil((hi + pad) * 100) / 100 };
  }
  var lonRange = padded(placed.map(function (v) { return v.longitude; }));
  var latRange = padded(placed.map(function (v) { return v.latitude; }));
  function mapOption(mode) {
    var groups = mode === "online"
      ? [[tr("js.dash.online"), "#0a6b1d", "circle", function (v) { return v.online; }],
         [tr("js.dash.offline"), "#a11212", "triangle", function (v) { return !v.online; }]]
      : [[tr("js.dash.no_overdue"), "#5b9b3a", "circle", function (v) { return v.overdue === 0; }],
         [tr("js.dash.has_overdue"), "#a11212", "diamond", function (v) { return v.overdue > 0; }]];
    return {
      tooltip: { trigger: "item", formatter: function (p) { return p.data[2] + " · " + p.data[3] + " · " + tr("js.dash.overdue") + " " + p.data[4]; } },
      legend: LEGEND, grid: { left: 64, right: 16, top: 40, bottom: 48 },
      xAxis: { type: "value", min: lonRange.min, max: lonRange.max, name: tr("js.dash.lon"), nameLocation: "middle",
               nameGap: 28, axisLabel: { formatter: "{value}°" } },
      yAxis: { type: "value", min: latRange.min, max: latRange.max, name: tr("js.dash.lat"), nameLocation: "middle",
               nameGap: 48, axisLabel: { formatter: "{value}°" } },
      series: groups.map(function (g) {
        return { name: g[0], type: "scatter", symbol: g[2], itemStyle: { color: g[1] },
                 symbolSize: function (d) { return mode === "overdue" ? 10 + Math.min(d[4], 10) * 2 : 12; },
                 data: placed.filter(g[3]).map(function (v) { return [v.longitude, v.latitude, v.name, v.town_name, v.overdue]; }) };
      })
    };
  }
  var map = chart("chart-map", mapOption("online"));
  ["online", "overdue"].forEach(function (mode) {
    var button = document.getElementById("map-" + mode);
    if (!button) { return; }
    button.addEventListener("click", function () {
      if (map) { var option = mapOption(mode); option.animation = false; map.setOption(option, true); }
      document.getElementById("map-online").setAttribute("aria-pressed", String(mode === "online"));
      document.getElementById("map-overdue").setAttribute("aria-pressed", String(mode === "overdue"));
      document.getElementById("chart-map").setAttribute("data-mode", mode);
    });
  });
  document.getElementById("chart-map").setAttribute("data-mode", "online");
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute("data-charts", String(charts.length));
}());
