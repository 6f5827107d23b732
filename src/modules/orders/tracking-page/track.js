/* global location, document, fetch, setInterval, clearInterval, setTimeout, window, WebSocket */
// Public order tracking: fetch the JSON, then follow live over a WebSocket; when the socket is
// unavailable, poll. No framework, no third-party code. Every value is written with textContent.
(function () {
  'use strict';
  var LABELS = {
    PENDING_PAYMENT: 'Paiement en attente / Awaiting payment',
    PLACED: 'Commande passée / Placed',
    PAYMENT_FAILED: 'Paiement échoué / Payment failed',
    PAYMENT_EXPIRED: 'Paiement expiré / Payment expired',
    ACCEPTED: 'Acceptée / Accepted',
    REJECTED: 'Refusée / Rejected',
    CANCELLED: 'Annulée / Cancelled',
    PREPARING: 'En préparation / Preparing',
    READY_FOR_PICKUP: 'Prête / Ready for pickup',
    PICKED_UP: 'En route / On the way',
    DELIVERED: 'Livrée / Delivered',
    COMPLETED: 'Terminée / Completed',
    DELIVERY_FAILED: 'Livraison échouée / Delivery failed',
    DISPUTED: 'Litige / Disputed',
    RESOLVED: 'Résolue / Resolved',
  };
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
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function render(view) {
    $('restaurant').textContent = view.restaurant.name;
    $('status').textContent = LABELS[view.status] || view.status;
    $('status').setAttribute('data-status', view.status);
    $('eta').textContent = time(view.estimatedDeliveryAt);
    $('address').textContent = view.address;
    $('driver').textContent = view.driverAssigned ? 'Livreur assigné / Driver assigned' : '';
    var position = view.driverPosition;
    $('position').textContent = position
      ? 'Position du livreur / Driver position: ' +
        position.latitude.toFixed(4) +
        ', ' +
        position.longitude.toFixed(4) +
        ' (' +
        time(position.recordedAt) +
        ')'
      : '';
    $('pin').textContent = view.deliveryPinHint;
    var list = $('timeline');
    while (list.firstChild) list.removeChild(list.firstChild);
    view.timeline.forEach(function (entry) {
      var item = document.createElement('li');
      item.textContent = LABELS[entry.status] || entry.status;
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
      headers: { accept: 'application/json' },
      cache: 'no-store',
    })
      .then(function (response) {
        if (response.status === 410) {
          stop();
          fail('Ce lien a expiré. / This link has expired.');
          return;
        }
        if (!response.ok) {
          fail('Lien invalide. / Invalid link.');
          return;
        }
        return response.json().then(render);
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
    $('live').textContent = 'Mise à jour toutes les 15 s / Updating every 15 s';
    pollTimer = setInterval(refresh, POLL_MS);
  }

  function connect(attempt) {
    if (!('WebSocket' in window)) return startPolling();
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(scheme + location.host + '/ws/track?token=' + encodeURIComponent(token));
    socket.onopen = function () {
      $('live').textContent = 'En direct / Live';
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
      if (data.view) render(data.view);
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
