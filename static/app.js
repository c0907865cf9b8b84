/*
 * app.js - small progressive additions to bouncewhy's pages. Everything works
 * without it; with it, each "copy this explanation" block gets a Copy button.
 * Loaded as a file (the Content-Security-Policy forbids inline script).
 */
(function () {
	"use strict";

	function copyText(area, done) {
		var text = area.value;
		if (navigator.clipboard && window.isSecureContext) {
			navigator.clipboard.writeText(text).then(done, function () {
				fallback();
			});
			return;
		}
		fallback();

		function fallback() {
			area.focus();
			area.select();
			try {
				document.execCommand("copy");
				done();
			} catch (e) {
				/* the text stays selected; the user can press Ctrl+C */
			}
		}
	}

	function addCopyButton(block) {
		var area = block.querySelector("textarea");
		var head = block.querySelector(".bw-copy-head");
		if (!area || !head || head.querySelector("button")) {
			return;
		}
		var button = document.createElement("button");
		button.type = "button";
		button.className = "bw-button-quiet";
		button.textContent = "Copy";
		var status = document.createElement("span");
		status.className = "bw-copied";
		status.setAttribute("role", "status");
		head.appendChild(status);
		head.appendChild(button);
		button.addEventListener("click", function () {
			copyText(area, function () {
				status.textContent = "Copied";
				window.setTimeout(function () {
					status.textContent = "";
				}, 2500);
			});
		});
	}

	function init() {
		var blocks = document.querySelectorAll(".bw-copy");
		for (var i = 0; i < blocks.length; i++) {
			addCopyButton(blocks[i]);
		}
	}

	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", init);
	} else {
		init();
	}
})();
