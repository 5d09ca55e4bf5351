// The return form: record the return through the JSON API, say what happened, then
// re-read the stock level a moment later (as the warehouse count would arrive).
(function () {
  "use strict";
  var form = document.getElementById("return-form");
  var result = document.getElementById("return-result");
  var problem = document.getElementById("return-error");
  var stock = document.getElementById("stock-level");
  var button = document.getElementById("submit-return");
  var low = Number(form.dataset.refreshMinMs);
  var high = Number(form.dataset.refreshMaxMs);

  function refreshStock() {
    return fetch("/api/products/" + encodeURIComponent(stock.dataset.sku))
      .then(function (response) { return response.json(); })
      .then(function (product) {
        stock.textContent = product.stock_label;
        stock.dataset.stock = product.stock;
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    result.hidden = true;
    problem.hidden = true;
    var payload = {
      order_id: Number(form.dataset.orderId),
      sku: form.dataset.sku,
      quantity: Number(form.elements.quantity.value),
      kind: form.elements.kind.value,
      condition: form.elements.condition.value,
      replacement_sku: form.elements.replacement_sku.value || null
    };
    fetch("/api/returns", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(payload)
    })
      .then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      })
      .then(function (answer) {
        if (!answer.ok) {
          problem.textContent = answer.data.message;
          problem.hidden = false;
          button.disabled = false;
          return;
        }
        result.textContent = answer.data.summary;
        result.hidden = false;
        document.getElementById("returnable").textContent =
          answer.data.order.lines.filter(function (line) {
            return line.sku === form.dataset.sku;
          }).reduce(function (sum, line) { return sum + line.returnable; }, 0);
        window.setTimeout(function () {
          refreshStock().then(function () {
            button.disabled = false;
            form.dataset.refreshed = "yes";
          });
        }, low + Math.random() * (high - low));
      })
      .catch(function (error) {
        problem.textContent = "Could not record the return: " + error;
        problem.hidden = false;
        button.disabled = false;
      });
  });
})();
