/*
 * embed.js - the bouncewhy widget for support portals.
 *
 * A portal adds, where the widget should appear:
 *
 *   <div data-bouncewhy="explain"></div>          (the paste-a-bounce form)
 *   <div data-bouncewhy="kb/userunknown"></div>   (one knowledge-base entry)
 *   <script src="https://BOUNCEWHY-HOST/static/embed.js" async></script>
 *
 * and the script replaces each such element's content with an iframe of
 * https://BOUNCEWHY-HOST/embed/..., sized to its content from the height the
 * frame reports (static/embed-frame.js). The bouncewhy server must list the
 * portal's origin in its frame-ancestors setting.
 */
(function () {
	"use strict";

	var script = document.currentScript;
	if (!script) {
		var all = document.querySelectorAll("script[src*='embed.js']");
		script = all[all.length - 1];
	}
	if (!script) {
		return;
	}
	var base = new URL(script.src, document.baseURI);
	var origin = base.origin;
	var frames = [];

	function pathFor(what) {
		what = String(what || "explain").replace(/^\/+/, "");
		if (!/^(explain|kb\/[a-z0-9_-]+)$/.test(what)) {
			what = "explain";
		}
		return "/embed/" + what;
	}

	function mount(el) {
		if (el.getAttribute("data-bouncewhy-mounted")) {
			return;
		}
		el.setAttribute("data-bouncewhy-mounted", "1");
		var frame = document.createElement("iframe");
		var what = el.getAttribute("data-bouncewhy");
		frame.src = origin + pathFor(what);
		frame.title = el.getAttribute("data-bouncewhy-title") ||
			"Why did my email bounce? (bouncewhy)";
		frame.setAttribute("loading", "lazy");
		frame.setAttribute("referrerpolicy", "no-referrer");
		frame.setAttribute("sandbox",
			"allow-scripts allow-forms allow-same-origin allow-popups allow-popups-to-escape-sandbox");
		frame.style.width = "100%";
		frame.style.minHeight = "12rem";
		frame.style.border = "0";
		frame.style.display = "block";
		while (el.firstChild) {
			el.removeChild(el.firstChild);
		}
		el.appendChild(frame);
		frames.push(frame);
	}

	window.addEventListener("message", function (ev) {
		if (ev.origin !== origin || !ev.data || ev.data.type !== "bouncewhy:height") {
			return;
		}
		var h = Number(ev.data.height);
		if (!isFinite(h) || h < 0 || h > 100000) {
			return;
		}
		for (var i = 0; i < frames.length; i++) {
			if (frames[i].contentWindow === ev.source) {
				frames[i].style.height = Math.ceil(h) + "px";
			}
		}
	});

	function init() {
		var els = document.querySelectorAll("[data-bouncewhy]");
		for (var i = 0; i < els.length; i++) {
			mount(els[i]);
		}
	}

	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", init);
	} else {
		init();
	}
})();
