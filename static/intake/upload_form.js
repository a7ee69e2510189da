// The 统计日期 field only for the kinds whose file may lack its date column
// (data-kinds on the field, from ImportSpec.takes_as_of). Without script it stays shown.
(function () {
  var kind = document.getElementById("id_kind");
  var asOf = document.getElementById("id_as_of");
  if (!kind || !asOf) return;
  var row = asOf.closest(".field");
  var kinds = (asOf.getAttribute("data-kinds") || "").split(" ");
  function sync() {
    var on = kinds.indexOf(kind.value) >= 0;
    row.hidden = !on;
    if (!on) asOf.value = "";
  }
  kind.addEventListener("change", sync);
  sync();
})();
