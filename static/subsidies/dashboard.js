/* Charts of the subsidy dashboard. Data comes from the json_script element; no inline JS. */
(function () {
  "use strict";
  var source = document.getElementById("subsidy-chart");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var percent = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };

  var counties = document.getElementById("chart-counties");
  if (counties) {
    echarts.init(counties).setOption({
      tooltip: { trigger: "axis" },
      legend: { data: ["对象无遗漏", "标准最高档", "结果全告知"] },
      grid: { left: 48, right: 16, bottom: 32, top: 40 },
      xAxis: { type: "category", data: data.counties },
      yAxis: percent,
      series: [
        { name: "对象无遗漏", type: "bar", data: data.coverage },
        { name: "标准最高档", type: "bar", data: data.top },
        { name: "结果全告知", type: "bar", data: data.informed }
      ]
    });
  }
  var stages = document.getElementById("chart-stages");
  if (stages) {
    echarts.init(stages).setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 90, right: 24, bottom: 24, top: 16 },
      xAxis: percent,
      yAxis: { type: "category", data: data.stages },
      series: [{ name: "覆盖率", type: "bar", data: data.stage_coverage, label: { show: true, position: "right", formatter: "{c}%" } }]
    });
  }
  window.addEventListener("resize", function () {
    [counties, stages].forEach(function (el) { var c = el && echarts.getInstanceByDom(el); if (c) { c.resize(); } });
  });
})();
