// The stock report is built in the background: start it, poll until it is ready, show it.
(function () {
  "use strict";
  var status = document.getElementById("report-status");
  var table = document.getElementById("stock-report");

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function show(report) {
    var body = table.querySelector("tbody");
    report.rows.forEach(function (line) {
      var row = document.createElement("tr");
      row.dataset.sku = line.sku;
      cell(row, line.product);
      cell(row, line.sku);
      cell(row, line.stock).className = "stock";
      cell(row, line.sold).className = "sold";
      cell(row, line.returned).className = "returned";
      cell(row, line.written_off).className = "written-off";
      cell(row, line.stock_value).className = "stock-value";
      body.appendChild(row);
    });
    document.getElementById("total-units").textContent = report.total_units;
    document.getElementById("total-value").textContent = report.total_value;
    table.hidden = false;
    status.textContent = "Report ready";
  }

  function poll(url) {
    fetch(url)
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.status === "done") {
          show(job.report);
        } else if (job.status === "running") {
          window.setTimeout(function () { poll(url); }, 400);
        } else {
          status.textContent = "The report failed: " + (job.error || job.message);
        }
      });
  }

  fetch("/api/reports/stock", {method: "POST"})
    .then(function (response) { return response.json(); })
    .then(function (job) { poll(job.url); })
    .catch(function (error) { status.textContent = "The report failed: " + error; });
})();
