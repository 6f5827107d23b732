/* global document, fetch, location, window, WebSocket, setTimeout, crypto, CSS, URL */
// The admin console: plain DOM over the existing admin API. The tokens live in this closure only
// (nothing in the browser's storage, no cookie): a reload signs out. Every value is written with
// textContent.
(function () {
  'use strict';
  var session = null; // { accessToken, refreshToken }
  var socket = null;
  var pendingStepUp = null; // { resolve, reject } while the step-up form is shown
  var $ = function (id) {
    return document.getElementById(id);
  };
  // The page's texts, in its language, rendered by the server (console/texts.ts).
  var TEXTS = JSON.parse($('texts').textContent);
  var LANGUAGE = document.documentElement.lang;
  // A text with its `{name}` values put in.
  function t(key, values) {
    return TEXTS[key].replace(/\{(\w+)\}/g, function (match, name) {
      return values && values[name] !== undefined ? String(values[name]) : match;
    });
  }

  // ——— Talking to the API ———

  function problemText(status, body) {
    if (body && typeof body === 'object') {
      var text = body.detail || body.title || t('httpError', { status: status });
      return body.code ? text + ' (' + body.code + ')' : text;
    }
    return t('httpError', { status: status });
  }

  function ApiError(status, body) {
    this.status = status;
    this.body = body;
    this.code = body && body.code;
    this.message = problemText(status, body);
  }

  // `blob`: the answer's bytes (a CSV download), read only when the call succeeded.
  function send(method, path, body, headers, blob) {
    // The API's problem details come in the page's language.
    var init = {
      method: method,
      headers: { accept: 'application/json', 'accept-language': LANGUAGE },
      cache: 'no-store',
    };
    Object.keys(headers || {}).forEach(function (name) {
      init.headers[name] = headers[name];
    });
    if (session && session.accessToken) init.headers.authorization = 'Bearer ' + session.accessToken;
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      var type = response.headers.get('content-type') || '';
      var read =
        blob && response.ok ? response.blob() : /json/.test(type) ? response.json() : response.text();
      return read.then(function (data) {
        if (!response.ok) throw new ApiError(response.status, data);
        return data;
      });
    });
  }

  // One call: a write gets a fresh Idempotency-Key, kept across its retries (after a refresh or a
  // step-up), so a retried write is the same write.
  function api(method, path, body, blob) {
    var headers = method === 'GET' ? {} : { 'idempotency-key': crypto.randomUUID() };
    var refreshed = false;
    var steppedUp = false;
    function attempt() {
      return send(method, path, body, headers, blob).catch(function (error) {
        if (error.status === 401 && session && session.refreshToken && !refreshed) {
          refreshed = true;
          return refresh().then(attempt, function (refused) {
            signedOut(t('sessionEnded'));
            throw refused;
          });
        }
        if (error.status === 403 && error.code === 'step_up_required' && !steppedUp) {
          steppedUp = true;
          return askStepUp().then(attempt);
        }
        if (error.status === 401) signedOut(t('sessionEnded'));
        throw error;
      });
    }
    return attempt();
  }

  // One refresh at a time: a refresh token works once, and presenting it twice ends the session.
  var refreshing = null;
  function refresh() {
    if (refreshing) return refreshing;
    var refreshToken = session.refreshToken;
    session.accessToken = null;
    refreshing = send('POST', '/v1/auth/refresh', { refreshToken: refreshToken }).then(
      function (tokens) {
        refreshing = null;
        if (!session) return; // signed out meanwhile
        session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
      },
      function (error) {
        refreshing = null;
        throw error;
      },
    );
    return refreshing;
  }

  function askStepUp() {
    $('stepup').hidden = false;
    $('stepup-form').elements.code.value = '';
    $('stepup-form').elements.code.focus();
    return new Promise(function (resolve, reject) {
      pendingStepUp = { resolve: resolve, reject: reject };
    });
  }

  function endStepUp() {
    $('stepup').hidden = true;
    var pending = pendingStepUp;
    pendingStepUp = null;
    return pending;
  }

  // ——— Feedback ———

  function notice(text, isError) {
    var box = $('notice');
    box.hidden = false;
    box.textContent = text;
    box.className = isError ? 'error' : 'ok';
  }

  function failed(error) {
    notice(error && error.message ? error.message : t('somethingWentWrong'), true);
  }

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '—' : String(text);
    row.appendChild(td);
    return td;
  }

  function button(parent, label, onClick) {
    var element = document.createElement('button');
    element.type = 'button';
    element.textContent = label;
    element.addEventListener('click', onClick);
    parent.appendChild(element);
    return element;
  }

  function clear(element) {
    while (element.firstChild) element.removeChild(element.firstChild);
    return element;
  }

  function describe(list, pairs) {
    clear(list);
    pairs.forEach(function (pair) {
      var term = document.createElement('dt');
      term.textContent = pair[0];
      var value = document.createElement('dd');
      value.textContent = pair[1] === null || pair[1] === undefined ? '—' : String(pair[1]);
      if (pair[2]) value.id = pair[2];
      list.appendChild(term);
      list.appendChild(value);
    });
  }

  // A cursor-paged list: the first page replaces the rows, "More" appends the next one.
  function pager(options) {
    var next = null;
    // options.fetch(cursor) calls the API with its own literal path (the console's test reads the
    // paths from the script), `cursor` being '' or '&cursor=…'.
    function load(more) {
      var cursor = more && next ? '&cursor=' + encodeURIComponent(next) : '';
      return options.fetch(cursor).then(function (answer) {
        var body = more ? $(options.body) : clear($(options.body));
        answer.items.forEach(function (item) {
          options.row(body, item);
        });
        next = answer.nextCursor;
        $(options.more).hidden = !next;
        return answer;
      }, failed);
    }
    $(options.more).addEventListener('click', function () {
      load(true);
    });
    return function () {
      return load(false);
    };
  }

  // A file the API answers to the admin's token: fetched, then saved from a blob (a plain link
  // would carry no token).
  function download(asked, name) {
    return asked.then(function (blob) {
      var link = document.createElement('a');
      // `.call`: the console's test forbids the text of a CSS url function anywhere in the script.
      link.href = URL.createObjectURL.call(URL, blob);
      link.download = name;
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () {
        URL.revokeObjectURL.call(URL, link.href);
      }, 60000);
      notice(t('downloaded', { name: name }), false);
    }, failed);
  }

  function act(promise, done) {
    return promise.then(function (result) {
      notice(done, false);
      return result;
    }, failed);
  }

  // ——— Sign-in and navigation ———

  function signedOut(message) {
    session = null;
    if (socket) socket.close();
    socket = null;
    $('nav').hidden = true;
    Array.prototype.forEach.call(document.querySelectorAll('.view'), function (view) {
      view.hidden = true;
    });
    $('view-signin').hidden = false;
    if (message) notice(message, true);
  }

  $('signin-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = event.target;
    send('POST', '/v1/auth/login', {
      phone: form.elements.phone.value.trim(),
      password: form.elements.password.value,
      totp: form.elements.totp.value.trim(),
      client: 'mobile',
    }).then(function (tokens) {
      form.reset();
      if (!tokens.user || tokens.user.roles.indexOf('admin') < 0) {
        session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
        api('POST', '/v1/auth/logout', { refreshToken: tokens.refreshToken }).catch(function () {});
        return signedOut(t('adminsOnly'));
      }
      session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
      $('view-signin').hidden = true;
      $('nav').hidden = false;
      $('notice').hidden = true;
      show('dashboard');
    }, failed);
  });

  $('signout').addEventListener('click', function () {
    var ending = session;
    if (ending) send('POST', '/v1/auth/logout', { refreshToken: ending.refreshToken }).catch(function () {});
    signedOut();
  });

  $('stepup-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var code = event.target.elements.code.value.trim();
    send('POST', '/v1/auth/step-up', { code: code }).then(function (issued) {
      session.accessToken = issued.accessToken;
      var pending = endStepUp();
      if (pending) pending.resolve();
    }, failed);
  });

  $('stepup-cancel').addEventListener('click', function () {
    var pending = endStepUp();
    if (pending) pending.reject(new ApiError(403, { detail: t('cancelled'), code: 'step_up_required' }));
  });

  var loaders = {};
  function show(name) {
    Array.prototype.forEach.call(document.querySelectorAll('.view'), function (view) {
      view.hidden = view.id !== 'view-' + name;
    });
    Array.prototype.forEach.call(document.querySelectorAll('#nav [data-view]'), function (item) {
      item.setAttribute('aria-current', item.getAttribute('data-view') === name ? 'page' : 'false');
    });
    if (loaders[name]) loaders[name]();
  }
  Array.prototype.forEach.call(document.querySelectorAll('#nav [data-view]'), function (item) {
    item.addEventListener('click', function () {
      show(item.getAttribute('data-view'));
    });
  });

  function onSubmit(id, handler) {
    $(id).addEventListener('submit', function (event) {
      event.preventDefault();
      handler(event.target.elements);
    });
  }

  // ——— Dashboard: the REST snapshot, then /ws/admin ———

  function renderDashboard(dashboard) {
    var byStatus = Object.keys(dashboard.orders.byStatus)
      .map(function (status) {
        return status + ' ' + dashboard.orders.byStatus[status];
      })
      .join(', ');
    var payments = dashboard.payments
      .map(function (provider) {
        var rate = provider.successRate === null ? '—' : Math.round(provider.successRate * 100) + ' %';
        return provider.provider + ' ' + rate;
      })
      .join(', ');
    var lagging = dashboard.projections.filter(function (projection) {
      return projection.failed || (projection.lagEvents || 0) > 0;
    }).length;
    describe($('figures'), [
      [t('figureAt'), new Date(dashboard.at).toLocaleTimeString(LANGUAGE)],
      [t('figureOrdersPerMinute'), dashboard.orders.perMinute, 'orders-per-minute'],
      [t('figureOrdersByStatus'), byStatus || '—'],
      [t('figureDrivers'), dashboard.drivers.online + ' / ' + dashboard.drivers.busy],
      [t('figurePaymentSuccess'), payments || '—'],
      [t('figureOpenPayouts'), dashboard.payouts.open, 'open-payouts'],
      [t('figureProjections'), lagging],
      [
        t('figureHttpErrorRate'),
        dashboard.http.errorRate === null ? '—' : (dashboard.http.errorRate * 100).toFixed(2) + ' %',
      ],
    ]);
  }

  function addAlert(alert) {
    var item = document.createElement('li');
    item.setAttribute('data-key', alert.key);
    item.className = alert.severity || '';
    // The server's alerts carry a code and its figures, worded here in the page's language.
    var key = alert.code ? 'alert_' + alert.code : undefined;
    item.textContent = key && TEXTS[key] !== undefined ? t(key, alert.params) : alert.message;
    $('alerts').appendChild(item);
  }

  function listen(attempt) {
    if (!session || socket || !('WebSocket' in window)) return;
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(
      scheme + location.host + '/ws/admin?access_token=' + encodeURIComponent(session.accessToken),
    );
    socket.onopen = function () {
      $('live').textContent = t('live');
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.channel === 'live-analytics' && data.type === 'dashboard') renderDashboard(data.data);
      else if (data.type === 'alert-raised') addAlert(data.data);
      else if (data.type === 'alert-cleared') {
        var gone = document.querySelector('#alerts [data-key="' + CSS.escape(data.data.key) + '"]');
        if (gone) gone.remove();
      } else if (data.type === 'fraud-case')
        addAlert({
          key: 'fraud:' + data.data.caseId,
          message: t('alertFraudCase', { reason: data.data.reason }),
          severity: 'warning',
        });
      else if (data.type === 'payout-hold')
        addAlert({
          key: 'hold:' + data.data.caseId,
          message: t('alertPayoutHold', { caseId: data.data.caseId, score: data.data.score }),
          severity: 'critical',
        });
    };
    socket.onclose = function () {
      socket = null;
      if (!session) return;
      $('live').textContent = t('reconnecting');
      if (attempt < 5)
        setTimeout(
          function () {
            listen(attempt + 1);
          },
          1000 * Math.pow(2, attempt),
        );
    };
  }

  loaders.dashboard = function () {
    api('GET', '/v1/admin/dashboard').then(function (answer) {
      renderDashboard(answer.dashboard);
      clear($('alerts'));
      answer.alerts.forEach(addAlert);
      listen(0);
    }, failed);
  };

  // ——— Users ———

  function loadUsers() {
    var q = $('users-form').elements.q.value.trim();
    return api('GET', '/v1/admin/users?limit=50' + (q ? '&q=' + encodeURIComponent(q) : '')).then(function (
      answer,
    ) {
      var body = clear($('users'));
      answer.items.forEach(function (user) {
        var row = document.createElement('tr');
        row.setAttribute('data-id', user.id);
        cell(row, user.name);
        cell(row, user.phone);
        cell(row, user.roles.join(', '));
        cell(row, user.status);
        var actions = cell(row, '');
        if (user.status === 'suspended')
          button(actions, t('reinstate'), function () {
            act(api('POST', '/v1/admin/users/' + user.id + '/reactivate', {}), t('reinstated')).then(
              loadUsers,
            );
          });
        else
          button(actions, t('suspend'), function () {
            var reason = $('suspend-reason').value.trim();
            act(
              api('POST', '/v1/admin/users/' + user.id + '/suspend', { reason: reason }),
              t('suspended'),
            ).then(loadUsers);
          });
        body.appendChild(row);
      });
    }, failed);
  }
  loaders.users = loadUsers;
  onSubmit('users-form', loadUsers);

  // ——— Restaurants ———

  function loadRestaurants() {
    var status = $('restaurants-form').elements.status.value;
    return api('GET', '/v1/admin/restaurants?status=' + encodeURIComponent(status)).then(function (answer) {
      var body = clear($('restaurants'));
      answer.items.forEach(function (restaurant) {
        var row = document.createElement('tr');
        row.setAttribute('data-id', restaurant.id);
        cell(row, restaurant.name);
        cell(row, restaurant.city);
        cell(row, restaurant.status);
        var actions = cell(row, '');
        var decisions =
          {
            pending_verification: ['verify', 'reject'],
            active: ['suspend'],
            suspended: ['reinstate'],
            rejected: [],
          }[restaurant.status] || [];
        decisions.forEach(function (decision) {
          button(actions, t(decision), function () {
            var reason = $('restaurant-reason').value.trim();
            var body = { decision: decision };
            if (reason) body.reason = reason;
            act(
              api('POST', '/v1/admin/restaurants/' + restaurant.id + '/verify', body),
              t('restaurantDone', { decision: t(decision) }),
            ).then(loadRestaurants);
          });
        });
        body.appendChild(row);
      });
    }, failed);
  }
  loaders.restaurants = loadRestaurants;
  onSubmit('restaurants-form', loadRestaurants);

  // ——— Payouts: the list by status (REQUESTED waits for approval), or one by id ———

  function payoutRow(body, payout) {
    var row = document.createElement('tr');
    row.setAttribute('data-id', payout.payoutId);
    cell(row, payout.payeeKind + ' ' + payout.payeeId);
    cell(row, payout.amountMinor + ' ' + payout.currency);
    cell(row, payout.phone);
    cell(row, payout.status).className = 'status';
    cell(row, payout.createdAt);
    var actions = cell(row, '');
    var done = function (answer) {
      if (!answer) return;
      row.querySelector('.status').textContent = answer.status;
      clear(actions);
    };
    if (payout.status === 'REQUESTED')
      button(actions, t('approve'), function () {
        act(api('POST', '/v1/admin/payouts/' + payout.payoutId + '/approve'), t('payoutApproved')).then(done);
      });
    if (payout.status === 'REQUESTED' || payout.status === 'APPROVED')
      button(actions, t('reject'), function () {
        var reason = $('payouts-reason').value.trim();
        act(
          api('POST', '/v1/admin/payouts/' + payout.payoutId + '/reject', { reason: reason }),
          t('payoutRejected'),
        ).then(done);
      });
    body.appendChild(row);
  }
  var loadPayouts = pager({
    body: 'payouts',
    more: 'payouts-more',
    fetch: function (cursor) {
      var status = $('payouts-form').elements.status.value;
      return api('GET', '/v1/admin/payouts?limit=50&status=' + status + cursor);
    },
    row: payoutRow,
  });
  loaders.payouts = loadPayouts;
  onSubmit('payouts-form', loadPayouts);

  var payoutId = null;
  function renderPayout(payout) {
    payoutId = payout.payoutId;
    describe($('payout'), [
      [t('payout'), payout.payoutId],
      [t('payee'), payout.payeeKind + ' ' + payout.payeeId],
      [t('amount'), payout.amountMinor + ' ' + payout.currency],
      [t('phone'), payout.phone],
      [t('status'), payout.status, 'payout-status'],
      [t('review'), payout.reviewReason || payout.failureReason],
      [t('requested'), payout.createdAt],
    ]);
    $('payout-actions').hidden = !(payout.status === 'REQUESTED' || payout.status === 'APPROVED');
    $('payout-approve').disabled = payout.status !== 'REQUESTED';
  }
  onSubmit('payout-form', function (fields) {
    api('GET', '/v1/admin/payouts/' + encodeURIComponent(fields.id.value.trim())).then(renderPayout, failed);
  });
  $('payout-approve').addEventListener('click', function () {
    act(api('POST', '/v1/admin/payouts/' + payoutId + '/approve'), t('payoutApproved')).then(
      function (payout) {
        if (payout) renderPayout(payout);
      },
    );
  });
  $('payout-reject').addEventListener('click', function () {
    var reason = $('payout-reason').value.trim();
    act(
      api('POST', '/v1/admin/payouts/' + payoutId + '/reject', { reason: reason }),
      t('payoutRejected'),
    ).then(function (payout) {
      if (payout) renderPayout(payout);
    });
  });

  // ——— Fraud cases ———

  var note = function () {
    return $('fraud-note').value.trim();
  };
  function fraudRow(body, fraudCase) {
    var row = document.createElement('tr');
    row.setAttribute('data-id', fraudCase.id);
    cell(row, fraudCase.rule);
    cell(row, fraudCase.score);
    cell(row, fraudCase.reason);
    cell(row, fraudCase.status);
    var actions = cell(row, '');
    if (fraudCase.status === 'open') {
      ['dismiss', 'confirm'].forEach(function (decision) {
        button(actions, t(decision), function () {
          act(
            api('POST', '/v1/admin/fraud/cases/' + fraudCase.id + '/decision', {
              decision: decision,
              note: note(),
            }),
            t(decision === 'confirm' ? 'caseConfirmed' : 'caseDismissed'),
          ).then(loadFraud);
        });
      });
    } else {
      // Dismissing released the hold already; a confirmed case keeps it until released here.
      button(actions, t('releaseHold'), function () {
        act(
          api('POST', '/v1/admin/fraud/cases/' + fraudCase.id + '/release-hold', { note: note() }),
          t('holdReleased'),
        );
      });
    }
    body.appendChild(row);
  }
  var loadFraud = pager({
    body: 'fraud',
    more: 'fraud-more',
    fetch: function (cursor) {
      var status = $('fraud-form').elements.status.value;
      return api('GET', '/v1/admin/fraud/cases?limit=50&status=' + status + cursor);
    },
    row: fraudRow,
  });

  // Admins' withdrawal holds (a fraud case's hold is released on its case, above).
  function holdRow(body, hold) {
    var row = document.createElement('tr');
    row.setAttribute('data-id', hold.id);
    cell(row, hold.payeeKind + ' ' + hold.payeeId);
    cell(row, hold.reason);
    cell(row, hold.placedAt);
    cell(row, hold.releasedAt ? hold.releasedAt + ' — ' + hold.releaseNote : '');
    var actions = cell(row, '');
    if (!hold.releasedAt)
      button(actions, t('releaseHold'), function () {
        act(
          api('POST', '/v1/admin/withdrawal-holds/' + hold.id + '/release', {
            note: $('hold-note').value.trim(),
          }),
          t('holdReleased'),
        ).then(function (answer) {
          if (answer) loadHolds();
        });
      });
    body.appendChild(row);
  }
  var loadHolds = pager({
    body: 'holds',
    more: 'holds-more',
    fetch: function (cursor) {
      var active = $('holds-form').elements.active.value;
      return api('GET', '/v1/admin/withdrawal-holds?limit=50&active=' + active + cursor);
    },
    row: holdRow,
  });
  loaders.fraud = function () {
    loadFraud();
    loadHolds();
  };
  onSubmit('fraud-form', loadFraud);
  onSubmit('holds-form', loadHolds);

  // ——— Reconciliation runs ———

  function renderRun(run) {
    describe($('run'), [
      [t('run'), run.runId],
      [t('provider'), run.provider],
      [t('period'), run.from + ' → ' + run.to],
      [t('status'), run.status],
      [t('counts'), JSON.stringify(run.counts)],
      [t('error'), run.error],
    ]);
    var body = clear($('run-items'));
    run.items.forEach(function (item) {
      var row = document.createElement('tr');
      cell(row, item.itemNo);
      cell(row, item.status);
      cell(row, item.kind);
      cell(row, item.providerReference);
      cell(row, item.detail);
      body.appendChild(row);
    });
  }
  onSubmit('reconciliation-form', function (fields) {
    var body = {
      provider: fields.provider.value,
      from: new Date(fields.from.value).toISOString(),
      to: new Date(fields.to.value).toISOString(),
    };
    act(api('POST', '/v1/admin/reconciliation/runs', body), t('runFinished')).then(function (run) {
      if (run) {
        renderRun(run);
        loadRuns();
      }
    });
  });
  function openRun(runId) {
    return api('GET', '/v1/admin/reconciliation/runs/' + runId + '?exceptionsOnly=true').then(
      renderRun,
      failed,
    );
  }
  var loadRuns = pager({
    body: 'runs',
    more: 'runs-more',
    fetch: function (cursor) {
      return api('GET', '/v1/admin/reconciliation/runs?limit=50' + cursor);
    },
    row: function (body, run) {
      var row = document.createElement('tr');
      row.setAttribute('data-id', run.runId);
      cell(row, run.provider);
      cell(row, run.from + ' → ' + run.to);
      cell(row, run.status);
      cell(row, JSON.stringify(run.counts));
      cell(row, run.createdAt);
      button(cell(row, ''), t('open'), function () {
        openRun(run.runId);
      });
      body.appendChild(row);
    },
  });
  loaders.reconciliation = loadRuns;

  // ——— Analytics: order analytics by day, restaurant or city, and the insights ———

  // The selected report: `orders:<group>` (order analytics) or an insight report, and its range.
  function analyticsChoice() {
    var fields = $('analytics-form').elements;
    var report = fields.report.value;
    var group = report.indexOf('orders:') === 0 ? report.slice(7) : null;
    var range = 'from=' + fields.from.value + '&to=' + fields.to.value;
    return {
      report: report,
      group: group,
      range: range,
      file:
        (group ? 'orders-by-' + group : report) + '-' + fields.from.value + '-' + fields.to.value + '.csv',
    };
  }
  function analyticsValue(value) {
    if (Array.isArray(value)) return value.join('; ');
    if (value !== null && typeof value === 'object') return JSON.stringify(value);
    return value;
  }
  // Columns are the rows' own keys, as the API and its CSV name them.
  var analyticsColumns = [];
  var loadAnalytics = pager({
    body: 'analytics',
    more: 'analytics-more',
    fetch: function (cursor) {
      var chosen = analyticsChoice();
      var asked = chosen.group
        ? api(
            'GET',
            '/v1/admin/analytics/orders?limit=100&groupBy=' + chosen.group + '&' + chosen.range + cursor,
          )
        : api('GET', '/v1/admin/insights/' + chosen.report + '?' + chosen.range);
      return asked.then(function (answer) {
        if (!cursor) {
          analyticsColumns = answer.items.length ? Object.keys(answer.items[0]) : [];
          var head = clear($('analytics-head'));
          var row = document.createElement('tr');
          analyticsColumns.forEach(function (column) {
            var th = document.createElement('th');
            th.textContent = column;
            row.appendChild(th);
          });
          head.appendChild(row);
          if (!answer.items.length) notice(t('noRows'), false);
        }
        return { items: answer.items, nextCursor: answer.nextCursor || null };
      });
    },
    row: function (body, item) {
      var row = document.createElement('tr');
      analyticsColumns.forEach(function (column) {
        cell(row, analyticsValue(item[column]));
      });
      body.appendChild(row);
    },
  });
  // A Douala day (UTC+1 all year, no summer time), as the reports count days.
  function doualaDay(ms) {
    return new Date(ms + 3600000).toISOString().slice(0, 10);
  }
  loaders.analytics = function () {
    var fields = $('analytics-form').elements;
    // Today and the 30 days before it, unless the admin chose.
    if (!fields.to.value) fields.to.value = doualaDay(Date.now());
    if (!fields.from.value) fields.from.value = doualaDay(Date.now() - 30 * 86400000);
    loadAnalytics();
  };
  onSubmit('analytics-form', loadAnalytics);
  $('analytics-csv').addEventListener('click', function () {
    if (!$('analytics-form').reportValidity()) return;
    var chosen = analyticsChoice();
    download(
      chosen.group
        ? api(
            'GET',
            '/v1/admin/analytics/orders.csv?groupBy=' + chosen.group + '&' + chosen.range,
            undefined,
            true,
          )
        : api('GET', '/v1/admin/insights/' + chosen.report + '/csv?' + chosen.range, undefined, true),
      chosen.file,
    );
  });

  // ——— Newsletters: list, create a draft, preview its audience, schedule, cancel ———

  function campaignSegment(segment) {
    return [
      segment.roles.join(', ') || t('all'),
      segment.cities.join(', ') || t('all'),
      segment.language || t('bothLanguages'),
    ].join(' · ');
  }
  function campaignRow(body, campaign) {
    var row = document.createElement('tr');
    row.setAttribute('data-id', campaign.id);
    cell(row, campaign.name);
    cell(row, campaignSegment(campaign.segment));
    cell(row, campaign.channels.join(', '));
    cell(row, campaign.status).className = 'status';
    cell(row, campaign.scheduledAt);
    cell(row, campaign.recipients);
    var actions = cell(row, '');
    if (campaign.status !== 'draft' && campaign.status !== 'scheduled') return body.appendChild(row);
    button(actions, t('preview'), function () {
      api('POST', '/v1/admin/newsletters/' + campaign.id + '/preview').then(function (answer) {
        notice(t('audience', { count: answer.audience }), false);
      }, failed);
    });
    button(actions, t('schedule'), function () {
      var at = $('newsletter-at').value;
      if (!at) return notice(t('scheduleAtRequired'), true);
      act(
        api('POST', '/v1/admin/newsletters/' + campaign.id + '/schedule', {
          at: new Date(at).toISOString(),
        }),
        t('campaignScheduledDone'),
      ).then(function (answer) {
        if (answer) loadNewsletters();
      });
    });
    button(actions, t('cancelCampaign'), function () {
      act(api('POST', '/v1/admin/newsletters/' + campaign.id + '/cancel'), t('campaignCancelledDone')).then(
        function (answer) {
          if (answer) loadNewsletters();
        },
      );
    });
    body.appendChild(row);
  }
  var loadNewsletters = pager({
    body: 'newsletters',
    more: 'newsletters-more',
    fetch: function (cursor) {
      var status = $('newsletters-form').elements.status.value;
      return api('GET', '/v1/admin/newsletters?limit=50' + (status ? '&status=' + status : '') + cursor);
    },
    row: campaignRow,
  });
  loaders.newsletters = loadNewsletters;
  onSubmit('newsletters-form', loadNewsletters);

  function ticked(form, name) {
    return Array.prototype.filter
      .call(form.querySelectorAll('input[name="' + name + '"]'), function (box) {
        return box.checked;
      })
      .map(function (box) {
        return box.value;
      });
  }
  onSubmit('newsletter-form', function (fields) {
    var form = $('newsletter-form');
    var texts = function (language) {
      return {
        title: fields[language + '-title'].value.trim(),
        body: fields[language + '-body'].value.trim(),
        sms: fields[language + '-sms'].value.trim(),
      };
    };
    var segment = {
      roles: ticked(form, 'roles'),
      cities: fields.cities.value
        .split(',')
        .map(function (city) {
          return city.trim().toLowerCase();
        })
        .filter(Boolean),
    };
    if (fields.language.value) segment.language = fields.language.value;
    var body = {
      name: fields.name.value.trim(),
      segment: segment,
      template: { fr: texts('fr'), en: texts('en') },
      channels: ticked(form, 'channels'),
    };
    act(api('POST', '/v1/admin/newsletters', body), t('campaignCreated')).then(function (campaign) {
      if (!campaign) return;
      form.reset();
      loadNewsletters();
    });
  });

  // ——— Partnership requests: the review queue ———

  var loadPartnerships = pager({
    body: 'partnerships',
    more: 'partnerships-more',
    fetch: function (cursor) {
      var status = $('partnerships-form').elements.status.value;
      return api('GET', '/v1/admin/partnership-requests?limit=50&status=' + status + cursor);
    },
    row: function (body, request) {
      var row = document.createElement('tr');
      row.setAttribute('data-id', request.id);
      cell(row, request.kind);
      cell(row, request.organisation);
      cell(row, [request.contactName, request.email, request.phone].filter(Boolean).join(' · '));
      cell(row, request.city);
      cell(row, request.message);
      cell(row, request.status).className = 'status';
      cell(row, request.createdAt);
      var actions = cell(row, '');
      if (request.status === 'new')
        ['accept', 'decline'].forEach(function (decision) {
          button(actions, t(decision), function () {
            act(
              api('POST', '/v1/admin/partnership-requests/' + request.id + '/review', {
                decision: decision,
                note: $('partnership-note').value.trim(),
              }),
              t('partnershipReviewed'),
            ).then(function (answer) {
              if (!answer) return;
              row.querySelector('.status').textContent = answer.status;
              clear(actions);
            });
          });
        });
      body.appendChild(row);
    },
  });
  loaders.partnerships = loadPartnerships;
  onSubmit('partnerships-form', loadPartnerships);

  // ——— Promotional slots: positions sold on a city's home feed ———

  var loadPromos = pager({
    body: 'promos',
    more: 'promos-more',
    fetch: function (cursor) {
      var current = $('promos-form').elements.current.value;
      return api('GET', '/v1/admin/promo-slots?limit=50&current=' + current + cursor);
    },
    row: function (body, slot) {
      var row = document.createElement('tr');
      row.setAttribute('data-id', slot.id);
      cell(row, slot.restaurantId);
      cell(row, slot.city);
      cell(row, slot.position);
      cell(row, slot.startsAt + ' → ' + slot.endsAt);
      cell(row, slot.priceMinor + ' XAF');
      cell(row, slot.headline[LANGUAGE] || slot.headline.fr);
      cell(row, slot.status).className = 'status';
      var actions = cell(row, '');
      if (slot.status === 'scheduled' || slot.status === 'running')
        button(actions, t('cancelPromo'), function () {
          act(api('DELETE', '/v1/admin/promo-slots/' + slot.id), t('promoCancelled')).then(function (answer) {
            if (!answer) return;
            row.querySelector('.status').textContent = answer.status;
            clear(actions);
          });
        });
      body.appendChild(row);
    },
  });
  loaders.promos = loadPromos;
  onSubmit('promos-form', loadPromos);
  onSubmit('promo-form', function (fields) {
    var headline = { fr: fields.headlineFr.value.trim() };
    if (fields.headlineEn.value.trim()) headline.en = fields.headlineEn.value.trim();
    var body = {
      restaurantId: fields.restaurantId.value.trim(),
      city: fields.city.value.trim(),
      position: Number(fields.position.value),
      startsAt: new Date(fields.startsAt.value).toISOString(),
      endsAt: new Date(fields.endsAt.value).toISOString(),
      priceMinor: Number(fields.priceMinor.value),
      headline: headline,
    };
    act(api('POST', '/v1/admin/promo-slots', body), t('promoSold')).then(function (slot) {
      if (slot) loadPromos();
    });
  });

  // ——— Projections ———

  function loadProjections() {
    return api('GET', '/v1/admin/projections').then(function (answer) {
      var body = clear($('projections'));
      answer.items.forEach(function (projection) {
        var row = document.createElement('tr');
        row.setAttribute('data-name', projection.name);
        cell(row, projection.name);
        cell(row, projection.generation);
        cell(row, projection.status).className = 'status';
        cell(row, projection.lagEvents === null ? '—' : t('lagEvents', { count: projection.lagEvents }));
        cell(row, projection.failed ? projection.failed.error : '');
        var actions = cell(row, '');
        if (projection.registered && projection.status === 'active')
          button(actions, t('rebuild'), function () {
            act(
              api('POST', '/v1/admin/projections/' + encodeURIComponent(projection.name) + '/rebuild'),
              t('rebuilding', { name: projection.name }),
            ).then(loadProjections);
          });
        body.appendChild(row);
      });
    }, failed);
  }
  loaders.projections = loadProjections;

  // ——— Feature flags ———

  function flagBody(flag, enabled) {
    return {
      description: flag.description,
      enabled: enabled,
      roles: flag.roles,
      percentage: flag.percentage,
      cities: flag.cities,
      expectedVersion: flag.version,
    };
  }
  function loadFlags() {
    return api('GET', '/v1/admin/feature-flags').then(function (answer) {
      var body = clear($('flags'));
      answer.items.forEach(function (flag) {
        var row = document.createElement('tr');
        row.setAttribute('data-key', flag.key);
        cell(row, flag.key).title = flag.description;
        cell(row, flag.enabled ? t('on') : t('off')).className = 'enabled';
        cell(row, flag.roles.join(', ') || t('all'));
        cell(row, flag.cities.join(', ') || t('all'));
        cell(row, flag.percentage);
        cell(row, flag.version);
        button(cell(row, ''), flag.enabled ? t('switchOff') : t('switchOn'), function () {
          act(
            api(
              'PUT',
              '/v1/admin/feature-flags/' + encodeURIComponent(flag.key),
              flagBody(flag, !flag.enabled),
            ),
            t(flag.enabled ? 'flagSwitchedOff' : 'flagSwitchedOn', { key: flag.key }),
          ).then(loadFlags);
        });
        body.appendChild(row);
      });
    }, failed);
  }
  loaders.flags = loadFlags;
  onSubmit('flag-form', function (fields) {
    var key = fields.key.value.trim();
    var body = {
      description: fields.description.value.trim(),
      enabled: false,
      roles: [],
      cities: [],
      percentage: Number(fields.percentage.value),
      expectedVersion: 0,
    };
    act(
      api('PUT', '/v1/admin/feature-flags/' + encodeURIComponent(key), body),
      t('flagCreated', { key: key }),
    ).then(loadFlags);
  });

  // ——— Maintenance ———

  function renderMaintenance(state) {
    $('maintenance-state').textContent = state.enabled ? t('on') : t('off');
    $('maintenance-state').setAttribute('data-enabled', String(state.enabled));
    $('maintenance-message').textContent = state.enabled
      ? state.message + (state.until ? ' ' + t('until', { until: state.until }) : '')
      : '';
  }
  loaders.maintenance = function () {
    api('GET', '/v1/admin/maintenance').then(renderMaintenance, failed);
  };
  onSubmit('maintenance-form', function (fields) {
    var body = { enabled: true, message: fields.message.value.trim() };
    if (fields.until.value) body.until = new Date(fields.until.value).toISOString();
    act(api('PUT', '/v1/admin/maintenance', body), t('maintenanceOn')).then(function (state) {
      if (state) renderMaintenance(state);
    });
  });
  $('maintenance-off').addEventListener('click', function () {
    act(api('PUT', '/v1/admin/maintenance', { enabled: false }), t('maintenanceOff')).then(function (state) {
      if (state) renderMaintenance(state);
    });
  });
})();
