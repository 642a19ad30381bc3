// Behaviour the pages share, switched on by attributes in their markup (no framework: the pages
// must work inside any LMS iframe, and without this script they still work, only less kindly).
(function () {
  "use strict";

  // Whether a form's fields differ from what the page was loaded with. Read from the fields
  // themselves, not from input events: typing done before this script ran counts too. A form
  // marked data-unsaved holds text the server gave back unsaved (after an error), so leaving it
  // loses work even before anything is typed.
  function changed(form) {
    if (form.hasAttribute("data-unsaved")) return true;
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") {
        return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (el.type === "file") return el.files && el.files.length > 0;
      return el.type !== "hidden" && "defaultValue" in el && el.value !== el.defaultValue;
    });
  }

  // form[data-warn-unsaved]: leaving the page (a link, the LMS's own navigation, closing the tab)
  // with typed work asks first. Sending the form is not leaving it. The listener sits on window,
  // so it runs after the page's own submit handlers and sees whether one of them cancelled it.
  function warnBeforeLeaving(form) {
    var sending = false;
    window.addEventListener("submit", function (event) {
      if (event.target === form && !event.defaultPrevented) sending = true;
    });
    window.addEventListener("pageshow", function () { sending = false; });   // back/forward cache
    window.addEventListener("beforeunload", function (event) {
      if (sending || !changed(form)) return;
      event.preventDefault();
      event.returnValue = "";   // older browsers want a value to show their own question
    });
  }

  // textarea[data-counter=<id>]: a word and character count in element <id>, an aria-live region.
  // It is written once typing pauses, so a screen reader hears the count, not every keystroke.
  // Characters are counted as the server counts them (essay_text.normalise, Python's len), against
  // data-max-chars.
  var PAUSE_MS = 600;

  function plural(n, noun) {
    return n.toLocaleString("en") + " " + noun + (n === 1 ? "" : "s");
  }

  function counts(text) {
    var clean = text.replace(/\r\n?/g, "\n").split("\n").map(function (line) { return line.replace(/\s+$/, ""); })
      .join("\n").trim();
    return {words: clean ? clean.split(/\s+/).length : 0, chars: Array.from(clean).length};
  }

  function countWords(field) {
    var out = document.getElementById(field.getAttribute("data-counter"));
    var max = parseInt(field.getAttribute("data-max-chars"), 10), timer = null;
    if (!out) return;
    function write() {
      var c = counts(field.value), over = max && c.chars > max;
      var words = plural(c.words, "word") + ", " + plural(c.chars, "character");
      if (over) words += ": " + (c.chars - max).toLocaleString("en") + " over the limit";
      if (out.textContent !== words) out.textContent = words;
      out.classList.toggle("over-limit", !!over);
    }
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(write, PAUSE_MS);
    });
    write();
  }

  // form[data-confirm]: an action students see at once (every graded essay returned) asks first.
  // Capture phase, before the page's data-once handler marks the form busy: a cancelled question
  // leaves the form as it was, ready for the next click.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Inside an LMS frame, ask the LMS to fit the frame to the page (Canvas's lti.frameResize; an LMS
  // that does not know the message ignores it), so a teacher scrolls the page, not a frame inside
  // it. Only the height is sent, to any origin: the page cannot know the LMS's own origin. The
  // document's scroll height never falls below the frame's, so the frame only grows: no loop.
  if (window.parent !== window && window.ResizeObserver) {
    var sentHeight = 0;
    new ResizeObserver(function () {
      var height = Math.ceil(document.documentElement.scrollHeight);
      if (Math.abs(height - sentHeight) < 8) return;
      sentHeight = height;
      window.parent.postMessage({subject: "lti.frameResize", height: height}, "*");
    }).observe(document.body);
  }

  // time[datetime]: a moment the server printed in UTC (lti_app/timestamps.py) is shown in the
  // reader's own time zone and locale, named with the zone so it is never ambiguous (a teacher in
  // California read a UTC hand-in time as theirs). The UTC words stay in the title.
  var LOCAL_TIME = {year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
                    timeZoneName: "short"};

  function localTime(el) {
    var moment = new Date(el.getAttribute("datetime"));
    if (isNaN(moment.getTime()) || el.hasAttribute("title")) return;
    el.title = el.textContent;
    el.textContent = new Intl.DateTimeFormat(undefined, LOCAL_TIME).format(moment);
  }

  // An error summary's links (coursework/_macros.html form_errors) put the cursor in their field
  // with its label, or its group's legend, in view: following the link alone scrolls the field to
  // the frame's top edge, its question out of sight above it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    var field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) return;
    event.preventDefault();
    var group = field.type === "radio" && field.closest("fieldset");
    var caption = group ? group.querySelector("legend") : field.labels && field.labels[0];
    (caption || field).scrollIntoView();
    field.focus({preventScroll: true});
  });

  // [data-poll-state]: a student's page waiting on a grade asks data-poll-url whether anything
  // changed (coursework/student_status.py), every 15 s at first, then less often, for half an hour:
  // with auto-release the feedback comes within minutes, and nothing else told the student to
  // reload. A change is announced, with a link that shows it (a GET, even after a refused hand-in);
  // the page never reloads by itself: that moved a screen-reader user reading their essay to the top
  // of a new page without warning (WCAG 3.2.5), and would take typed work away. With typed work the
  // notice also says the link reloads the page.
  // The notice element is a live region, empty in the page from the start: screen readers announce
  // what is added to one, and mostly miss a region that appears already filled. What it says comes
  // from the <template> inside it.
  function pollState(el) {
    var started = Date.now(), wait = 15000;
    function later() {
      wait = Math.min(wait * 1.25, 60000);
      if (Date.now() - started < 1800000) setTimeout(poll, wait);
    }
    function show(data) {
      // The page is often the redirect after a hand-in: its one-time notice ("Your essay was
      // handed in.") would come back above the grade (coursework/notices.py).
      var url = new URL(location.href);
      url.searchParams.delete("notice");
      var typing = Array.prototype.some.call(document.querySelectorAll("form[data-warn-unsaved]"), changed);
      var region = document.getElementById(el.getAttribute("data-poll-notice"));
      var notice = region.querySelector("template").content.firstElementChild.cloneNode(true);
      var link = notice.querySelector("a"), parts = notice.querySelectorAll("span");
      parts[0].textContent = data.news;
      if (data.action) link.textContent = data.action;
      link.href = url.href;
      parts[1].hidden = !typing;
      region.appendChild(notice);
    }
    function poll() {
      fetch(el.getAttribute("data-poll-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.state !== el.getAttribute("data-poll-state")) show(data); else later();
        }, later);
    }
    setTimeout(poll, wait);
  }

  // input[type=file][data-max-bytes]: a file over the upload limit is refused as soon as it is
  // chosen, beside the field, and the choice cleared. Sent, it got a 413 page in place of the
  // form (web_security._too_large), and the typed text was only one "Back" away from lost.
  function checkSize(input) {
    var note = document.createElement("p");
    note.className = "field-error";
    note.style.color = "var(--err)";
    note.id = input.id + "-too-large";
    // Announced as it appears: focus is mostly on the field already, so focusing it says nothing.
    note.setAttribute("role", "alert");
    note.hidden = true;
    input.insertAdjacentElement("afterend", note);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var limit = Number(input.getAttribute("data-max-bytes"));
      var tooLarge = !!file && limit > 0 && file.size > limit;
      note.textContent = tooLarge ? input.getAttribute("data-too-large") : "";
      note.hidden = !tooLarge;
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id !== note.id;
      });
      if (tooLarge) {
        input.value = "";
        input.setAttribute("aria-invalid", "true");
        described.push(note.id);
        input.focus();
      } else {
        input.removeAttribute("aria-invalid");
      }
      input.setAttribute("aria-describedby", described.join(" "));
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-history-back]")) history.back();
  });

  // A one-time notice ("Grade saved.") travels in the redirect's URL (coursework/notices.py): once
  // shown, drop it from the address, so that reloading the page does not say it again.
  function forgetNotice() {
    var url = new URL(window.location.href);
    if (!url.searchParams.has("notice") || !window.history.replaceState) return;
    url.searchParams.delete("notice");
    history.replaceState(history.state, "", url.href);
  }

  // #session-timer (base.html): the session ends after a while without use, and at the latest some
  // hours after the launch (auth.py). Typing is use: while someone types (an essay, a long comment)
  // the session is told, at most every 5 minutes, so it does not end under them. Before the end
  // (WCAG 2.2.1) an alert says when, with "Stay signed in", which tells the session the same way;
  // near the latest end it says to open Gradeloop again from the course instead. The keep-alive
  // answers the new end and the field that names the launch: a token the session rides on (cookie
  // blocked) is renewed in this page's forms and links.
  // The end this page knows is only its own: with the cookie, every tab of the launch shares the
  // session, and another tab's use extends it. So before a warning appears, and every half minute
  // while one shows, the page reads the real end (session_end, which does not renew the session).
  // A keep-alive the server refuses means the session has ended; one that does not arrive is said.
  var KEEP_ALIVE_EVERY_MS = 5 * 60 * 1000, LONGEST_WAIT_MS = 30000;   // a computer waking from sleep is noticed
  var ASK_EVERY_MS = 30000, FRESH_MS = 1000;   // an answer this recent needs no asking again
  // What a form on the page lets someone type (an essay, a comment, a score): what is kept.
  var TYPED_FIELDS = "main form textarea, main form input:not([type=hidden]):not([type=submit])" +
                     ":not([type=checkbox]):not([type=radio]):not([type=button]):not([type=file])";

  function sessionTimer(el) {
    var timing = JSON.parse(el.getAttribute("data-timing")), offset = 0, ends = 0;
    var launch = [el.getAttribute("data-launch-name"), el.getAttribute("data-launch-value")];
    var region = document.getElementById("session-warning"), renewed = document.getElementById("session-renewed");
    var lastSent = 0, shown = null, timer = null, before = null;
    // asked: when the server last told the end; over: it said the session ended; unreachable: the
    // last "Stay signed in" did not get through.
    var asked = 0, asking = false, over = false, unreachable = false;
    var clock = new Intl.DateTimeFormat(undefined, {hour: "numeric", minute: "2-digit"});

    // What the server said of the end (LaunchContext.timing): `left` is on its clock as it answered,
    // so this page's clock is set against it each time (a page's clock may be wrong, or asleep).
    function learn(t) {
      asked = Date.now();
      offset = asked - (t.ends - t.left) * 1000;
      ends = t.ends;
      timing.latest = t.latest;
    }
    learn(timing);

    function onThisClock(serverTime) {   // a moment the server named, on this page's clock (ms)
      return offset + serverTime * 1000;
    }

    // A session the server no longer knows answers 401 (or 403: the cookie lost the launch, so
    // the keep-alive's CSRF check fails); anything else that is not an answer is "not reached".
    function read(response) {
      if (response.ok) return response.json();
      if (response.status === 401 || response.status === 403) return {ended: true};
      throw new Error("HTTP " + response.status);
    }

    function renewTokens(data) {
      launch = [data.field, data.value];
      document.querySelectorAll('input[name="' + data.field + '"]').forEach(function (i) { i.value = data.value; });
      if (data.field !== "lt") return;
      document.querySelectorAll("a[href], form[action]").forEach(function (link) {
        var attr = link.tagName === "A" ? "href" : "action";
        var url = new URL(link.getAttribute(attr), location.href);
        if (url.origin !== location.origin || !url.searchParams.has("lt")) return;
        url.searchParams.set("lt", data.value);
        link.setAttribute(attr, url.pathname + url.search + url.hash);
      });
    }

    // Resolves to "longer", "same", "ended" or "unreachable".
    function keepAlive() {
      lastSent = Date.now();
      var body = new URLSearchParams({csrf_token: el.getAttribute("data-csrf")});
      body.set(launch[0], launch[1]);
      return fetch(el.getAttribute("data-keep-alive"), {method: "POST", body: body, credentials: "same-origin",
                                                        headers: {Accept: "application/json"}})
        .then(read)
        .then(function (data) {
          unreachable = false;
          if (data.ended) {
            over = true;
            check();
            return "ended";
          }
          renewTokens(data);
          var longer = data.ends > ends;
          learn(data);
          check();
          return longer ? "longer" : "same";
        }, function () { return "unreachable"; });
    }

    // The session's end as the server has it now, read without renewing it. Not reached: the page
    // goes by what it knew.
    function askTheEnd() {
      asking = true;
      var url = new URL(el.getAttribute("data-end-url"), location.href);
      url.searchParams.set(launch[0], launch[1]);
      fetch(url.href, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(read)
        .then(function (data) {
          unreachable = false;   // Gradeloop answers again: "could not be reached" no longer holds
          if (data.ended) over = true; else learn(data);
        }, function () {})
        .then(function () {
          asking = false;
          asked = Date.now();
          check();
        });
    }

    // Inside an LMS frame fitted to the page's height (lti.frameResize), the top of the page, where
    // the warning is, may be far above the LMS window's view: if it is not in view, ask the LMS to
    // scroll to the frame's top (Canvas's lti.scrollToTop; an LMS that does not know it ignores it).
    // Focus stays where it was.
    function bringIntoView(notice) {
      if (window.parent === window || !window.IntersectionObserver) return;
      var seen = new IntersectionObserver(function (entries) {
        seen.disconnect();
        if (entries[0].intersectionRatio < 0.99) window.parent.postMessage({subject: "lti.scrollToTop"}, "*");
      }, {threshold: [0, 0.99]});
      seen.observe(notice);
    }

    function restoreFocus() {
      if (before && before !== document.body && document.contains(before)) before.focus();
    }

    function endWords(notice) {   // the end, as a time of day, where the warning names it
      var at = notice.querySelector("[data-end]"), words = clock.format(new Date(onThisClock(ends)));
      if (at && at.textContent !== words) at.textContent = words;
    }

    function show(when) {
      if (when === shown) return endWords(region);
      // The warning's button had focus: back where the reader was before it appeared, or on the
      // new warning's button, in the same place.
      var hadFocus = region.contains(document.activeElement);
      shown = when;
      region.textContent = "";
      if (when) {
        if (!hadFocus) before = document.activeElement;
        var notice = document.createElement("div");
        notice.className = "notice notice-warning";
        notice.setAttribute("role", "alert");   // an alert put in the page is announced at once
        notice.appendChild(el.querySelector('template[data-when="' + when + '"]').content.cloneNode(true));
        // "What you typed here is kept" only where there is something to type in.
        if (!document.querySelector(TYPED_FIELDS)) {
          notice.querySelectorAll("[data-typed]").forEach(function (span) { span.remove(); });
        }
        endWords(notice);
        region.appendChild(notice);
        var button = notice.querySelector("button");
        if (hadFocus) {
          if (button) button.focus(); else restoreFocus();
        }
        bringIntoView(notice);
      } else {
        if (hadFocus) restoreFocus();
        before = null;
      }
    }

    function due() {
      var now = Date.now(), end = onThisClock(ends), latest = onThisClock(timing.latest), warn = timing.warn * 1000;
      if (over || now >= end) return "ended";
      if (end - now > warn) return null;
      if (latest - now <= warn) return "last";
      return unreachable ? "unreachable" : "soon";
    }

    function check() {
      clearTimeout(timer);
      var when = due();
      if (when && !over && Date.now() - asked >= (when === shown ? ASK_EVERY_MS : FRESH_MS)) {
        if (!asking) askTheEnd();   // it checks again once answered
        return;
      }
      show(when);
      var next = onThisClock(ends) - (when ? 0 : timing.warn * 1000);   // the end, or the warning before it
      if (when !== "ended") timer = setTimeout(check, Math.min(Math.max(next - Date.now(), 0) + 50, LONGEST_WAIT_MS));
    }

    document.addEventListener("input", function () {
      if (Date.now() - lastSent >= KEEP_ALIVE_EVERY_MS) keepAlive();
    });
    region.addEventListener("click", function (event) {
      if (!event.target.closest("[data-stay]")) return;
      keepAlive().then(function (outcome) {
        var until = clock.format(new Date(onThisClock(ends)));
        if (outcome === "longer") renewed.textContent = "You stay signed in until " + until + ".";
        unreachable = outcome === "unreachable";
        if (unreachable) check();
      });
    });
    window.addEventListener("pageshow", check);
    document.addEventListener("visibilitychange", check);
    check();
  }

  // LTI platform storage (1EdTech postMessage storage), used by the login and launch pages when our
  // cookie may be refused inside the LMS's iframe: send one message to the platform's storage frame
  // and call done once, with the platform's answer, or with {} when there is no such frame, the
  // message cannot be sent, or no answer comes within 4 s (the login goes on either way).
  function platformStorage(target, platformOrigin, message, answerSubject, done) {
    var messageId = "gl-" + Math.random().toString(36).slice(2), finished = false;
    function finish(answer) {
      if (finished) return;
      finished = true;
      done(answer || {});
    }
    var frame = null;
    try { frame = target === "_parent" ? window.parent : window.parent.frames[target]; } catch (e) { frame = null; }
    if (!frame || frame === window) { finish(); return; }
    window.addEventListener("message", function (event) {
      var data = event.data || {};
      if (event.origin !== platformOrigin || data.subject !== answerSubject || data.message_id !== messageId) return;
      finish(data);
    });
    message.message_id = messageId;
    try { frame.postMessage(message, platformOrigin); } catch (e) { finish(); return; }
    setTimeout(finish, 4000);
  }

  window.gradeloop = {changed: changed, platformStorage: platformStorage};
  forgetNotice();
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(checkSize);
  document.querySelectorAll("[data-poll-state]").forEach(pollState);
  document.querySelectorAll("time[datetime]").forEach(localTime);
  document.querySelectorAll("form[data-warn-unsaved]").forEach(warnBeforeLeaving);
  document.querySelectorAll("textarea[data-counter]").forEach(countWords);
  document.querySelectorAll("#session-timer").forEach(sessionTimer);
  // An error the server found is where the reader's attention goes first: the hand-in page's
  // error, or a form's error summary, which links to each field marked aria-invalid; or a form's
  // outcome, shown once after its redirect ("Grade saved.", coursework/_macros.html notices).
  var problem = document.querySelector("[data-focus-on-load]");
  if (problem) problem.focus();
})();
