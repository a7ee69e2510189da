/* Dropout dashboard charts. Data comes from the json_script tag; no inline script. */
(function () {
  "use strict";
  var source = document.getElementById("dropout-chart-data");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colors = ["#b26a00", "#1f5fa8", "#7b1fa2", "#2e7d32", "#00838f", "#6b7280"];

  var statusEl = document.getElementById("dropout-status-chart");
  if (statusEl) {
    var statusChart = echarts.init(statusEl);
    statusChart.setOption({
      color: colors,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.counties },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "cases", data: s.data, label: { show: false } };
      })
    });
    window.addEventListener("resize", function () { statusChart.resize(); });
  }

  var attentionEl = document.getElementById("dropout-attention-chart");
  if (attentionEl) {
    var attentionChart = echarts.init(attentionEl);
    attentionChart.setOption({
      color: ["#c0392b", "#1f5fa8"],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 40, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.counties },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "需督办（逾期/30天未跟进）", type: "bar", data: data.attention, label: { show: true, position: "top" } },
        { name: "建档立卡（未结案）", type: "bar", data: data.poor, label: { show: true, position: "top" } }
      ]
    });
    window.addEventListener("resize", function () { attentionChart.resize(); });
  }
})();
