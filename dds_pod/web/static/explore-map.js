// The Explore page's map: clustered markers of the located results, and the list following the map.
// Moving or zooming the map puts its area (bbox) into the address and reloads the results and facets from this
// node; without JavaScript the page lists everything and the area can still be set in the address.
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) { return; }
  var tiles = element.getAttribute("data-tiles");
  var map = L.map(element, { scrollWheelZoom: false, maxZoom: 18 });
  if (tiles) {
    L.tileLayer(tiles, { attribution: element.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map);
  }
  var markers = L.markerClusterGroup({ showCoverageOnHover: false });
  map.addLayer(markers);
  var following = false;
  var latest = 0; // the number of the last request: an older answer arriving late is dropped

  function popup(properties) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = properties.url;
    link.textContent = properties.title;
    if (properties.lang) { link.lang = properties.lang; }
    box.appendChild(link);
    var platform = document.createElement("div");
    platform.textContent = properties.platform;
    box.appendChild(platform);
    return box;
  }

  function show(collection) {
    markers.clearLayers();
    var layer = L.geoJSON(collection, {
      pointToLayer: function (feature, latlng) {
        return L.marker(latlng, { title: feature.properties.title, alt: feature.properties.title });
      },
      onEachFeature: function (feature, marker) { marker.bindPopup(popup(feature.properties)); }
    });
    markers.addLayer(layer);
    return layer;
  }

  function bboxParam() {
    var bounds = map.getBounds();
    var clamp = function (value, limit) { return Math.max(-limit, Math.min(limit, value)); };
    return [clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90), clamp(bounds.getEast(), 180),
            clamp(bounds.getNorth(), 90)].map(function (n) { return n.toFixed(5); }).join(",");
  }

  function follow() {
    if (!following) { return; }
    var address = new URL(window.location.href);
    address.searchParams.set("bbox", bboxParam());
    address.searchParams.delete("page");
    var status = document.getElementById("map-status");
    if (status) { status.textContent = status.getAttribute("data-loading"); }
    var number = ++latest;
    fetch(address.toString(), { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.text().then(function (text) { return [response, text]; }); })
      .then(function (answer) {
        if (number !== latest) { return; }
        var page = new DOMParser().parseFromString(answer[1], "text/html");
        ["results-region", "facets"].forEach(function (id) {
          var fresh = page.getElementById(id), current = document.getElementById(id);
          if (fresh && current) { current.replaceWith(fresh); }
        });
        window.history.replaceState(null, "", address.toString());
        if (status) { status.textContent = status.getAttribute("data-done"); }
      })
      .catch(function () { if (number === latest && status) { status.textContent = status.getAttribute("data-failed"); } });
  }

  var area = element.getAttribute("data-bbox");
  fetch(element.getAttribute("data-points"), { headers: { Accept: "application/geo+json" } })
    .then(function (response) { return response.json(); })
    .then(function (collection) {
      var layer = show(collection);
      if (area) {
        var c = area.split(",").map(Number);
        map.fitBounds([[c[1], c[0]], [c[3], c[2]]]);
      } else if (collection.features.length) {
        map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 15 });
      } else {
        map.setView([46, 2], 4);
      }
      // Only the reader's own moves filter the list, not the first framing above.
      window.setTimeout(function () { following = true; }, 0);
    });
  map.on("moveend", follow);
})();
