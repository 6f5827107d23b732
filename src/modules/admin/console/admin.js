/* global document, fetch, location, window, WebSocket, setTimeout, crypto, CSS */
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

  // ——— Talking to the API ———

  function problemText(status, body) {
    if (body && typeof body === 'object') {
      var text = body.detail || body.title || 'HTTP ' + status;
      return body.code ? text + ' (' + body.code + ')' : text;
    }
    return 'HTTP ' + status;
  }

  function ApiError(status, body) {
    this.status = status;
    this.body = body;
    this.code = body && body.code;
    this.message = problemText(status, body);
  }

  function send(method, path, body, headers) {
    var init = { method: method, headers: { accept: 'application/json' }, cache: 'no-store' };
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
      var read = /json/.test(type) ? response.json() : response.text();
      return read.then(function (data) {
        if (!response.ok) throw new ApiError(response.status, data);
        return data;
      });
    });
  }

  // One call: a write gets a fresh Idempotency-Key, kept across its retries (after a refresh or a
  // step-up), so a retried write is the same write.
  function api(method, path, body) {
    var headers = method === 'GET' ? {} : { 'idempotency-key': crypto.randomUUID() };
    var refreshed = false;
    var steppedUp = false;
    function attempt() {
      return send(method, path, body, headers).catch(function (error) {
        if (error.status === 401 && session && session.refreshToken && !refreshed) {
          refreshed = true;
          return refresh().then(attempt, function (refused) {
            signedOut('Your session ended: sign in again.');
            throw refused;
          });
        }
        if (error.status === 403 && error.code === 'step_up_required' && !steppedUp) {
          steppedUp = true;
          return askStepUp().then(attempt);
        }
        if (error.status === 401) signedOut('Your session ended: sign in again.');
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
    notice(error && error.message ? error.message : 'Something went wrong.', true);
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
        return signedOut('This console is for admins.');
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
    if (pending) pending.reject(new ApiError(403, { detail: 'Cancelled.', code: 'step_up_required' }));
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
      ['At', new Date(dashboard.at).toLocaleTimeString()],
      ['Orders per minute', dashboard.orders.perMinute, 'orders-per-minute'],
      ['Orders by status', byStatus || '—'],
      ['Drivers online / busy', dashboard.drivers.online + ' / ' + dashboard.drivers.busy],
      ['Payment success', payments || '—'],
      ['Open payouts', dashboard.payouts.open, 'open-payouts'],
      ['Projections lagging or failed', lagging],
      [
        'HTTP error rate',
        dashboard.http.errorRate === null ? '—' : (dashboard.http.errorRate * 100).toFixed(2) + ' %',
      ],
    ]);
  }

  function addAlert(alert) {
    var item = document.createElement('li');
    item.setAttribute('data-key', alert.key);
    item.className = alert.severity || '';
    item.textContent = alert.message;
    $('alerts').appendChild(item);
  }

  function listen(attempt) {
    if (!session || socket || !('WebSocket' in window)) return;
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(
      scheme + location.host + '/ws/admin?access_token=' + encodeURIComponent(session.accessToken),
    );
    socket.onopen = function () {
      $('live').textContent = 'live';
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
          message: 'Fraud case: ' + data.data.reason,
          severity: 'warning',
        });
      else if (data.type === 'payout-hold')
        addAlert({
          key: 'hold:' + data.data.caseId,
          message: 'Payouts held by fraud case ' + data.data.caseId + ' (score ' + data.data.score + ')',
          severity: 'critical',
        });
    };
    socket.onclose = function () {
      socket = null;
      if (!session) return;
      $('live').textContent = 'reconnecting…';
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
          button(actions, 'Reinstate', function () {
            act(api('POST', '/v1/admin/users/' + user.id + '/reactivate', {}), 'Reinstated.').then(loadUsers);
          });
        else
          button(actions, 'Suspend', function () {
            var reason = $('suspend-reason').value.trim();
            act(
              api('POST', '/v1/admin/users/' + user.id + '/suspend', { reason: reason }),
              'Suspended.',
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
          button(actions, decision, function () {
            var reason = $('restaurant-reason').value.trim();
            var body = { decision: decision };
            if (reason) body.reason = reason;
            act(
              api('POST', '/v1/admin/restaurants/' + restaurant.id + '/verify', body),
              'Done: ' + decision + '.',
            ).then(loadRestaurants);
          });
        });
        body.appendChild(row);
      });
    }, failed);
  }
  loaders.restaurants = loadRestaurants;
  onSubmit('restaurants-form', loadRestaurants);

  // ——— Payouts (by id: the API has no list of payouts to approve) ———

  var payoutId = null;
  function renderPayout(payout) {
    payoutId = payout.payoutId;
    describe($('payout'), [
      ['Payout', payout.payoutId],
      ['Payee', payout.payeeKind + ' ' + payout.payeeId],
      ['Amount', payout.amountMinor + ' ' + payout.currency],
      ['Phone', payout.phone],
      ['Status', payout.status, 'payout-status'],
      ['Review', payout.reviewReason || payout.failureReason],
      ['Requested', payout.createdAt],
    ]);
    $('payout-actions').hidden = !(payout.status === 'REQUESTED' || payout.status === 'APPROVED');
    $('payout-approve').disabled = payout.status !== 'REQUESTED';
  }
  onSubmit('payout-form', function (fields) {
    api('GET', '/v1/admin/payouts/' + encodeURIComponent(fields.id.value.trim())).then(renderPayout, failed);
  });
  $('payout-approve').addEventListener('click', function () {
    act(api('POST', '/v1/admin/payouts/' + payoutId + '/approve'), 'Approved: the payout job sends it.').then(
      function (payout) {
        if (payout) renderPayout(payout);
      },
    );
  });
  $('payout-reject').addEventListener('click', function () {
    var reason = $('payout-reason').value.trim();
    act(api('POST', '/v1/admin/payouts/' + payoutId + '/reject', { reason: reason }), 'Rejected.').then(
      function (payout) {
        if (payout) renderPayout(payout);
      },
    );
  });

  // ——— Fraud cases ———

  function loadFraud() {
    var status = $('fraud-form').elements.status.value;
    return api('GET', '/v1/admin/fraud/cases?limit=50&status=' + status).then(function (answer) {
      var body = clear($('fraud'));
      answer.items.forEach(function (fraudCase) {
        var row = document.createElement('tr');
        row.setAttribute('data-id', fraudCase.id);
        cell(row, fraudCase.rule);
        cell(row, fraudCase.score);
        cell(row, fraudCase.reason);
        cell(row, fraudCase.status);
        var actions = cell(row, '');
        var note = function () {
          return $('fraud-note').value.trim();
        };
        if (fraudCase.status === 'open') {
          ['dismiss', 'confirm'].forEach(function (decision) {
            button(actions, decision, function () {
              act(
                api('POST', '/v1/admin/fraud/cases/' + fraudCase.id + '/decision', {
                  decision: decision,
                  note: note(),
                }),
                'Case ' + decision + 'ed.',
              ).then(loadFraud);
            });
          });
        } else {
          button(actions, 'Release hold', function () {
            act(
              api('POST', '/v1/admin/fraud/cases/' + fraudCase.id + '/release-hold', { note: note() }),
              'Hold released.',
            );
          });
        }
        body.appendChild(row);
      });
    }, failed);
  }
  loaders.fraud = loadFraud;
  onSubmit('fraud-form', loadFraud);

  // ——— Reconciliation runs ———

  function renderRun(run) {
    describe($('run'), [
      ['Run', run.runId],
      ['Provider', run.provider],
      ['Period', run.from + ' → ' + run.to],
      ['Status', run.status],
      ['Counts', JSON.stringify(run.counts)],
      ['Error', run.error],
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
    act(api('POST', '/v1/admin/reconciliation/runs', body), 'Run finished.').then(function (run) {
      if (run) renderRun(run);
    });
  });
  onSubmit('run-form', function (fields) {
    var id = encodeURIComponent(fields.id.value.trim());
    api('GET', '/v1/admin/reconciliation/runs/' + id + '?exceptionsOnly=true').then(renderRun, failed);
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
        cell(row, projection.lagEvents === null ? '—' : projection.lagEvents + ' events');
        cell(row, projection.failed ? projection.failed.error : '');
        var actions = cell(row, '');
        if (projection.registered && projection.status === 'active')
          button(actions, 'Rebuild', function () {
            act(
              api('POST', '/v1/admin/projections/' + encodeURIComponent(projection.name) + '/rebuild'),
              'Rebuilding ' + projection.name + ': the current tables serve until the new ones catch up.',
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
        cell(row, flag.enabled ? 'on' : 'off').className = 'enabled';
        cell(row, flag.roles.join(', ') || 'all');
        cell(row, flag.cities.join(', ') || 'all');
        cell(row, flag.percentage);
        cell(row, flag.version);
        button(cell(row, ''), flag.enabled ? 'Switch off' : 'Switch on', function () {
          act(
            api(
              'PUT',
              '/v1/admin/feature-flags/' + encodeURIComponent(flag.key),
              flagBody(flag, !flag.enabled),
            ),
            flag.key + (flag.enabled ? ' is off.' : ' is on.'),
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
    act(api('PUT', '/v1/admin/feature-flags/' + encodeURIComponent(key), body), key + ' created (off).').then(
      loadFlags,
    );
  });

  // ——— Maintenance ———

  function renderMaintenance(state) {
    $('maintenance-state').textContent = state.enabled ? 'on' : 'off';
    $('maintenance-state').setAttribute('data-enabled', String(state.enabled));
    $('maintenance-message').textContent = state.enabled
      ? state.message + (state.until ? ' (until ' + state.until + ')' : '')
      : '';
  }
  loaders.maintenance = function () {
    api('GET', '/v1/admin/maintenance').then(renderMaintenance, failed);
  };
  onSubmit('maintenance-form', function (fields) {
    var body = { enabled: true, message: fields.message.value.trim() };
    if (fields.until.value) body.until = new Date(fields.until.value).toISOString();
    act(api('PUT', '/v1/admin/maintenance', body), 'Maintenance is on.').then(function (state) {
      if (state) renderMaintenance(state);
    });
  });
  $('maintenance-off').addEventListener('click', function () {
    act(api('PUT', '/v1/admin/maintenance', { enabled: false }), 'Maintenance is off.').then(
      function (state) {
        if (state) renderMaintenance(state);
      },
    );
  });
})();
