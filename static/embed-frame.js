/*
 * embed-frame.js - runs inside bouncewhy's /embed/ pages. Tells the page that
 * framed us how tall our content is, so the widget (embed.js) can size the
 * iframe without a scroll bar. The message carries only a number, so it is
 * posted to any parent origin; the parent checks that it came from our frame.
 */
(function () {
	"use strict";

	if (window.parent === window) {
		return;
	}
	var last = -1;

	function report() {
		var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
		if (h !== last) {
			last = h;
			window.parent.postMessage({ type: "bouncewhy:height", height: h }, "*");
		}
	}

	if (typeof ResizeObserver === "function") {
		new ResizeObserver(report).observe(document.documentElement);
	} else {
		window.addEventListener("resize", report);
		window.setInterval(report, 500);
	}
	window.addEventListener("load", report);
	document.addEventListener("toggle", report, true);
	report();
})();
