/* global location, document, fetch, setInterval, clearInterval, setTimeout, window, WebSocket */
// Public order tracking: fetch the JSON, then follow live over a WebSocket; when the socket is
// unavailable, poll. No framework, no third-party code. Every value is written with textContent.
(function () {
  'use strict';
  // The page's texts, in its language, rendered by the server (tracking-page/texts.ts).
  var TEXTS = JSON.parse(document.getElementById('texts').textContent);
  var POLL_MS = 15000;
  var token = decodeURIComponent(location.pathname.split('/').pop() || '');
  var pollTimer = null;
  var socket = null;
  var stopped = false;
  var $ = function (id) {
    return document.getElementById(id);
  };

  function time(iso) {
    if (!iso) return '—';
    var date = new Date(iso);
    return date.toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });
  }

  function render(view, fromFetch) {
    $('restaurant').textContent = view.restaurant.name;
    $('status').textContent = TEXTS[view.status] || view.status;
    $('status').setAttribute('data-status', view.status);
    $('eta').textContent = time(view.estimatedDeliveryAt);
    $('address').textContent = view.address;
    $('driver').textContent = view.driverAssigned ? TEXTS.driverAssigned : '';
    var position = view.driverPosition;
    $('position').textContent = position
      ? TEXTS.driverPosition +
        ': ' +
        position.latitude.toFixed(4) +
        ', ' +
        position.longitude.toFixed(4) +
        ' (' +
        time(position.recordedAt) +
        ')'
      : '';
    // A live message's view carries no language; the hint of the last fetch stays.
    if (fromFetch) $('pin').textContent = view.deliveryPinHint;
    var list = $('timeline');
    while (list.firstChild) list.removeChild(list.firstChild);
    view.timeline.forEach(function (entry) {
      var item = document.createElement('li');
      item.textContent = TEXTS[entry.status] || entry.status;
      var stamp = document.createElement('time');
      stamp.dateTime = entry.at;
      stamp.textContent = time(entry.at);
      item.appendChild(stamp);
      list.appendChild(item);
    });
  }

  function fail(message) {
    var box = $('error');
    box.hidden = false;
    box.textContent = message;
  }

  function refresh() {
    return fetch('/v1/track/' + encodeURIComponent(token), {
      // The JSON's delivery PIN hint in the page's language.
      headers: { accept: 'application/json', 'accept-language': document.documentElement.lang },
      cache: 'no-store',
    })
      .then(function (response) {
        if (response.status === 410) {
          stop();
          fail(TEXTS.expired);
          return;
        }
        if (!response.ok) {
          fail(TEXTS.invalid);
          return;
        }
        return response.json().then(function (view) {
          render(view, true);
        });
      })
      .catch(function () {
        /* offline: the next poll or message retries */
      });
  }

  function stop() {
    stopped = true;
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
    if (socket) socket.close();
  }

  function startPolling() {
    if (pollTimer || stopped) return;
    $('live').textContent = TEXTS.polling;
    pollTimer = setInterval(refresh, POLL_MS);
  }

  function connect(attempt) {
    if (!('WebSocket' in window)) return startPolling();
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(scheme + location.host + '/ws/track?token=' + encodeURIComponent(token));
    socket.onopen = function () {
      $('live').textContent = TEXTS.live;
      if (pollTimer) {
        clearInterval(pollTimer);
        pollTimer = null;
      }
      refresh();
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.type === 'ping') return;
      if (data.view) render(data.view, false);
      else refresh();
    };
    socket.onclose = function () {
      socket = null;
      if (stopped) return;
      startPolling();
      if (attempt < 5)
        setTimeout(
          function () {
            connect(attempt + 1);
          },
          Math.min(30000, 1000 * Math.pow(2, attempt)),
        );
    };
  }

  refresh().then(function () {
    connect(0);
  });
})();
