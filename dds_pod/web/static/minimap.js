// A contribution's place on a small map: its marker, with the node's tile layer when one is configured.
(function () {
  "use strict";
  var element = document.getElementById("minimap");
  if (!element || !window.L) { return; }
  var latitude = Number(element.getAttribute("data-lat")), longitude = Number(element.getAttribute("data-lon"));
  if (!isFinite(latitude) || !isFinite(longitude)) { return; }
  var map = L.map(element, { scrollWheelZoom: false, maxZoom: 18 }).setView([latitude, longitude], 15);
  var tiles = element.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { attribution: element.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map);
  }
  L.marker([latitude, longitude], { title: element.getAttribute("data-name") || "",
                                     alt: element.getAttribute("data-name") || "" }).addTo(map);
})();
