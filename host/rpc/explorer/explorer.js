// Vellum explorer: a single-page block explorer served by the node itself.
// Plain JavaScript, no framework, no build step. Talks only to this node's JSON-RPC
// (POST /) and its WebSocket (same port). All DOM is built with createElement/textContent;
// no innerHTML of chain data, no inline styles in markup (CSP).
'use strict';

(function () {
  // ---------------------------------------------------------------- RPC
  class RpcError extends Error {
    constructor(method, err) {
      super(err && err.message ? err.message : String(err));
      this.method = method;
      this.code = err && err.code;
      this.data = err && err.data;
    }
  }

  let rpcId = 0;
  async function post(body, rawBody) {
    const res = await fetch('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: rawBody != null ? rawBody : JSON.stringify(body),
    });
    if (!res.ok) {
      const text = await res.text();
      throw new RpcError('http', { code: res.status, message: 'HTTP ' + res.status, data: text });
    }
    return JSON.parse(quoteBigInts(await res.text()));
  }

  // Contract amounts are u128: integers past 2^53 would lose digits in JSON.parse, so such
  // literals are turned into strings (shown with thousands separators by num()).
  function quoteBigInts(text) {
    if (!/\d{16}/.test(text)) return text;
    let out = '', i = 0, last = 0, inStr = false;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (inStr) {
        if (c === 92) i += 2; else { if (c === 34) inStr = false; i++; }
        continue;
      }
      if (c === 34) { inStr = true; i++; continue; }
      if (c === 45 || (c >= 48 && c <= 57)) {
        let j = i + 1;
        while (j < n && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
        const nc = text.charCodeAt(j);
        const lit = text.slice(i, j);
        if (j - i >= 16 && nc !== 46 && nc !== 101 && nc !== 69) {
          let big = false;
          try { const v = BigInt(lit); big = v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER); } catch (e) { big = false; }
          if (big) { out += text.slice(last, i) + '"' + lit + '"'; last = j; }
        }
        i = j;
        continue;
      }
      i++;
    }
    return out + text.slice(last);
  }

  async function rpc(method, params) {
    const r = await post({ jsonrpc: '2.0', id: ++rpcId, method, params: params || [] });
    if (r.error) throw new RpcError(method, r.error);
    return r.result;
  }

  // Batch of [method, params]; returns [{result}|{error: RpcError}] in order. Splits at 100.
  async function rpcBatch(calls) {
    const out = [];
    for (let i = 0; i < calls.length; i += 100) {
      const chunk = calls.slice(i, i + 100);
      const base = rpcId + 1;
      rpcId += chunk.length;
      const reqs = chunk.map(([method, params], j) => ({ jsonrpc: '2.0', id: base + j, method, params: params || [] }));
      const res = await post(reqs);
      const byId = new Map((Array.isArray(res) ? res : [res]).map((r) => [r.id, r]));
      chunk.forEach(([method], j) => {
        const r = byId.get(base + j);
        if (!r) out.push({ error: new RpcError(method, { code: -32603, message: 'no answer in batch' }) });
        else if (r.error) out.push({ error: new RpcError(method, r.error) });
        else out.push({ result: r.result });
      });
    }
    return out;
  }

  async function query(contract, method, args, height) {
    const p = [contract, method, args || {}];
    if (height != null) p.push(height);
    return (await rpc('vellum_query', p)).output;
  }

  // All pages of vellum_getEvents for a filter (bounded).
  async function allEvents(filter, maxPages) {
    const out = [];
    let cursor = null;
    for (let i = 0; i < (maxPages || 20); i++) {
      const f = Object.assign({ limit: 1000 }, filter);
      if (cursor) f.cursor = cursor;
      const r = await rpc('vellum_getEvents', [f]);
      out.push(...r.events);
      if (!r.next_cursor) break;
      cursor = r.next_cursor;
    }
    return out;
  }

  // ---------------------------------------------------------------- DOM helpers
  function h(tag, attrs, ...kids) {
    const svg = tag.startsWith('svg:');
    const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') el.setAttribute('class', v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(el, kids);
    return el;
  }
  function append(el, kids) {
    for (const k of kids) {
      if (k == null || k === false) continue;
      if (Array.isArray(k)) append(el, k);
      else if (k instanceof Node) el.appendChild(k);
      else el.appendChild(document.createTextNode(String(k)));
    }
    return el;
  }
  const s = (tag, attrs, ...kids) => h('svg:' + tag, attrs, ...kids);
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  // ---------------------------------------------------------------- formatting
  const nf = new Intl.NumberFormat('en-US');
  function num(n) {
    if (n == null) return '–';
    if (typeof n === 'number' || typeof n === 'bigint') return nf.format(n);
    if (typeof n === 'string' && /^\d+$/.test(n)) { try { return nf.format(BigInt(n)); } catch (e) { return n; } }
    return String(n);
  }
  function short(hex, n) {
    if (!hex || typeof hex !== 'string') return String(hex);
    n = n || 6;
    return hex.length > 2 * n + 4 ? hex.slice(0, n + 2) + '…' + hex.slice(-n) : hex;
  }
  function ago(ms) {
    const diff = Math.round((Date.now() - ms) / 1000);
    const d = Math.abs(diff);
    let t;
    if (d < 60) t = d + ' s';
    else if (d < 3600) t = Math.floor(d / 60) + ' min';
    else if (d < 86400) t = Math.floor(d / 3600) + ' h ' + Math.floor((d % 3600) / 60) + ' min';
    else t = Math.floor(d / 86400) + ' d ' + Math.floor((d % 86400) / 3600) + ' h';
    return diff < -1 ? 'in ' + t : (diff < 0 ? 0 : d) === 0 ? '0 s ago' : t + ' ago';
  }
  function localTime(ms) {
    const d = new Date(ms);
    const p = (x, n) => String(x).padStart(n || 2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.' + p(d.getMilliseconds(), 3);
  }
  function timeEl(ms) {
    if (ms == null) return '–';
    return h('span', { class: 'time', title: new Date(ms).toISOString(), 'data-ago': ms }, localTime(ms), h('span', { class: 'ago' }, ' (' + ago(ms) + ')'));
  }
  function agoEl(ms) {
    return h('span', { class: 'agoonly', title: localTime(ms), 'data-ago-only': ms }, ago(ms));
  }
  // Refresh "N s ago" texts every few seconds.
  setInterval(() => {
    document.querySelectorAll('[data-ago]').forEach((el) => {
      const a = el.querySelector('.ago');
      if (a) a.textContent = ' (' + ago(Number(el.getAttribute('data-ago'))) + ')';
    });
    document.querySelectorAll('[data-ago-only]').forEach((el) => { el.textContent = ago(Number(el.getAttribute('data-ago-only'))); });
  }, 5000);

  function mono(text, title) { return h('span', { class: 'mono', title: title || text }, text); }
  function hashText(hex, n) { return h('span', { class: 'mono', title: hex }, short(hex, n)); }
  function copyable(hex) {
    return h('span', { class: 'mono full' }, hex);
  }
  function link(href, text, title, cls) { return h('a', { href, title, class: cls }, text); }
  function blockLink(height) { return height == null ? '–' : link('#/block/' + height, num(height), 'block ' + height); }
  function blockHashLink(hash) { return link('#/block/' + hash, short(hash), hash, 'mono'); }
  function txLink(hash, n) { return link('#/tx/' + hash, short(hash, n), hash, 'mono'); }
  function accountLink(addr) {
    if (!addr) return '–';
    const c = state.contracts.get(addr);
    if (c) return contractLink(addr);
    const name = state.names.get(addr);
    return link('#/account/' + addr, name ? name + ' ' + short(addr, 4) : short(addr), addr, name ? '' : 'mono');
  }
  function contractLink(addr) {
    if (!addr) return '–';
    const c = state.contracts.get(addr);
    const label = c ? (c.interface && c.interface.contract ? c.interface.contract : 'contract') + ' ' + short(addr, 4) : short(addr);
    return link('#/contract/' + addr, label, addr, c ? '' : 'mono');
  }
  function anyAddrLink(addr) {
    return state.contracts.has(addr) ? contractLink(addr) : accountLink(addr);
  }
  function badge(status, text) {
    const cls = {
      success: 'ok', valid: 'ok', anchored: 'ok', passed: 'ok', committed: 'ok', closed: 'neutral', open: 'info', revealing: 'warn',
      contract_error: 'bad', trap: 'bad', out_of_fuel: 'bad', refused: 'bad', revoked: 'bad', recalled: 'bad', failed: 'bad',
      pending: 'warn', superseded: 'warn', unknown: 'neutral', inactive: 'neutral', released: 'ok', refunded: 'warn',
      true: 'ok', false: 'bad', admin: 'info', member: 'neutral', validator: 'info', observer: 'neutral',
    }[status] || 'neutral';
    return h('span', { class: 'badge ' + cls }, text != null ? text : String(status));
  }
  function pretty(v) {
    return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);
  }
  function jsonBlock(v, attrs) { return h('pre', Object.assign({ class: 'json' }, attrs || {}), v === undefined ? '–' : pretty(v)); }
  function parseMaybeJson(text) {
    if (typeof text !== 'string') return text;
    try { return JSON.parse(text); } catch (e) { return text; }
  }

  function hexToBytes(hex) {
    const s0 = hex.startsWith('0x') ? hex.slice(2) : hex;
    const out = new Uint8Array(s0.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s0.substr(2 * i, 2), 16);
    return out;
  }
  function bytesToHex(b) { let s1 = '0x'; for (const x of b) s1 += x.toString(16).padStart(2, '0'); return s1; }
  function textToHex(t) { return bytesToHex(new TextEncoder().encode(t)); }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  function tryUtf8(bytes) { try { return utf8.decode(bytes); } catch (e) { return null; } }
  function isPrintable(c) { return c >= 0x20 && c < 0x7f; }
  // Readable rendering of a storage key: printable runs as text, other bytes as ‹hex›;
  // long binary runs (addresses, hashes) as one 0x… chunk.
  function keyDisplay(hex) {
    const b = hexToBytes(hex);
    const parts = [];
    let i = 0;
    while (i < b.length) {
      let j = i;
      if (isPrintable(b[i])) {
        while (j < b.length && isPrintable(b[j])) j++;
        const run = String.fromCharCode(...b.slice(i, j));
        if (j - i >= 3 || j === b.length) { parts.push(['t', run]); i = j; continue; }
      }
      j = i;
      while (j < b.length && !(isPrintable(b[j]) && j + 2 < b.length && isPrintable(b[j + 1]) && isPrintable(b[j + 2]))) j++;
      if (j === i) j = i + 1;
      const bin = b.slice(i, j);
      parts.push(['b', bin.length >= 8 ? bytesToHex(bin) : Array.from(bin, (x) => '‹' + x.toString(16).padStart(2, '0') + '›').join('')]);
      i = j;
    }
    return parts;
  }
  // Storage keys of the SDK's maps: a length-prefixed namespace, then components: text
  // ended by 00 00, 32-byte addresses/hashes, 8-byte big-endian integers. Anything that does
  // not parse that way falls back to keyDisplay.
  function keyParts(hex) {
    const b = hexToBytes(hex);
    const L = b[0];
    if (!(L >= 1 && L < 64 && b.length >= 1 + L)) return null;
    for (let i = 1; i <= L; i++) if (!isPrintable(b[i])) return null;
    const parts = [['ns', String.fromCharCode(...b.slice(1, 1 + L))]];
    let i = 1 + L;
    while (i < b.length) {
      let j = i;
      while (j < b.length && isPrintable(b[j])) j++;
      if (j > i && j + 1 < b.length && b[j] === 0 && b[j + 1] === 0 && (b.length - i !== 32 && b.length - i !== 40)) {
        parts.push(['s', String.fromCharCode(...b.slice(i, j))]); i = j + 2; continue;
      }
      const rest = b.length - i;
      if (rest >= 32 && rest !== 8) { parts.push(['h', bytesToHex(b.slice(i, i + 32))]); i += 32; continue; }
      if (rest === 8) { let v = 0n; for (let k = i; k < i + 8; k++) v = (v << 8n) | BigInt(b[k]); parts.push(['n', v.toString()]); i += 8; continue; }
      parts.push(['x', bytesToHex(b.slice(i))]); i = b.length;
    }
    return parts;
  }
  function keyEl(key) {
    if (key.text != null) return h('span', { class: 'key' }, key.text);
    const kp = keyParts(key.hex);
    if (kp) {
      return h('span', { class: 'key', title: key.hex }, kp.map(([k, t], i) => [i ? h('span', { class: 'ksep' }, ' / ') : null,
        k === 'ns' ? h('span', { class: 'kt' }, t) : k === 's' ? h('span', { class: 'ks' }, '"' + t + '"') : k === 'h' ? h('span', { class: 'kb', title: t }, short(t, 4)) : k === 'n' ? h('span', { class: 'kn' }, t) : h('span', { class: 'kb' }, short(t, 8))]));
    }
    return h('span', { class: 'key', title: key.hex }, keyDisplay(key.hex).map(([k, t]) => h('span', { class: k === 't' ? 'kt' : 'kb' }, k === 'b' && t.length > 24 ? short(t, 8) : t)));
  }
  // Storage values: JSON if they are JSON text, else text if printable, else hex.
  function valueEl(hex) {
    if (hex == null) return h('span', { class: 'muted' }, '(removed)');
    const b = hexToBytes(hex);
    const t = tryUtf8(b);
    if (t != null && t.length) {
      const j = (() => { try { return JSON.parse(t); } catch (e) { return undefined; } })();
      if (j !== undefined && /^[\s[{"]/.test(t)) return jsonBlock(j);
      const printable = [...t].every((c) => c >= ' ' || c === '\n' || c === '\t');
      if (printable) return h('div', null, h('span', { class: 'muted small' }, 'text '), h('span', { class: 'kt' }, JSON.stringify(t)));
    }
    const parts = keyDisplay(hex);
    const hasText = parts.some(([k, x]) => k === 't' && x.length >= 3);
    return h('div', { class: 'val' },
      h('div', { class: 'mono hex', title: b.length + ' bytes' }, hex.length > 300 ? hex.slice(0, 300) + '… (' + num(b.length) + ' bytes)' : hex),
      hasText ? h('div', { class: 'small muted' }, 'text in it: ', parts.filter(([k, x]) => k === 't' && x.length >= 3).map(([k, x], i) => [i ? ' · ' : '', h('span', { class: 'kt' }, x)])) : null);
  }

  // ---------------------------------------------------------------- shared state
  const state = {
    chainId: null,
    status: null,
    head: null,
    contracts: new Map(), // address -> contract record
    names: new Map(), // address -> display name (parties, notaries)
    validators: new Map(), // public key -> {name, organisation}
  };

  const KINDS = {
    notary: { label: 'Notary', need: ['anchor', 'verify'], route: (a) => '#/document/' + a, what: 'Document notarization' },
    trace: { label: 'Trace', need: ['trace', 'handover'], route: (a) => '#/trace/' + a, what: 'Food traceability' },
    ballot: { label: 'Ballot', need: ['tally', 'create_meeting'], route: (a) => '#/meeting/' + a, what: 'Shareholder e-voting' },
    points: { label: 'Points', need: ['balance', 'swap'], route: (a) => '#/points/' + a, what: 'Loyalty points' },
    escrow: { label: 'Escrow', need: ['deal', 'release'], route: (a) => '#/escrow/' + a, what: 'Points escrow' },
  };
  function kindOf(c) {
    const names = new Set(((c.interface && c.interface.methods) || []).map((m) => m.name));
    for (const [k, d] of Object.entries(KINDS)) if (d.need.every((n) => names.has(n))) return k;
    return null;
  }

  async function loadContracts(force) {
    if (state.contracts.size && !force) return state.contracts;
    const m = new Map();
    let cursor = null;
    for (let i = 0; i < 50; i++) {
      const p = { limit: 100 };
      if (cursor) p.cursor = cursor;
      const r = await rpc('vellum_getContracts', [p]);
      for (const c of r.contracts) { c.kind = kindOf(c); m.set(c.address, c); }
      if (!r.next_cursor) break;
      cursor = r.next_cursor;
    }
    state.contracts = m;
    return m;
  }

  function validatorName(pk) {
    const v = state.validators.get(pk);
    return v ? v.name : null;
  }
  function proposerEl(pk) {
    const v = state.validators.get(pk);
    return h('span', { title: pk }, v ? v.name : short(pk));
  }

  // ---------------------------------------------------------------- live blocks (WebSocket)
  const live = {
    ws: null, last: null, listeners: new Set(), backoff: 1000, timer: null,
    start(fromHeight) {
      if (this.ws) return;
      if (fromHeight != null && this.last == null) this.last = fromHeight - 1;
      this.connect();
    },
    connect() {
      let ws;
      try { ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/'); } catch (e) { this.retry(); return; }
      this.ws = ws;
      ws.onopen = () => {
        this.backoff = 1000;
        const params = this.last != null ? [this.last + 1] : [];
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'vellum_subscribeBlocks', params }));
        setLive(true);
      };
      ws.onmessage = (m) => {
        let msg;
        try { msg = JSON.parse(m.data); } catch (e) { return; }
        if (msg.method === 'vellum_block' && msg.params && msg.params.result) {
          const b = msg.params.result;
          if (this.last != null && b.height <= this.last) return;
          this.last = b.height;
          onHead(b);
          for (const f of this.listeners) { try { f(b); } catch (e) { showError(e); } }
        }
      };
      ws.onclose = () => { this.ws = null; setLive(false); this.retry(); };
      ws.onerror = () => { /* onclose follows */ };
    },
    retry() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 30000);
    },
  };
  function setLive(on) {
    const el = document.getElementById('live');
    el.textContent = on ? 'live' : 'reconnecting';
    el.className = 'live ' + (on ? 'on' : 'off');
  }
  function onHead(b) {
    state.head = b;
    document.getElementById('head-height').textContent = num(b.height);
  }

  // ---------------------------------------------------------------- errors
  function showError(e, context) {
    const box = document.getElementById('error');
    box.hidden = false;
    const data = e && e.data !== undefined ? (typeof e.data === 'string' ? e.data : pretty(e.data)) : null;
    box.appendChild(h('div', { class: 'errline' },
      h('b', null, (context ? context + ': ' : '') + (e && e.message ? e.message : String(e))),
      e && e.code != null ? h('span', { class: 'muted' }, ' (code ' + e.code + (e.method ? ', ' + e.method : '') + ')') : null,
      data ? h('pre', { class: 'errdata' }, data) : null));
  }
  function clearError() { const box = document.getElementById('error'); clear(box); box.hidden = true; }

  // ---------------------------------------------------------------- router
  const page = () => document.getElementById('page');
  let renderToken = 0;
  let cleanups = [];
  const routes = [];
  function route(re, name, fn) { routes.push({ re, name, fn }); }

  async function render() {
    const token = ++renderToken;
    for (const c of cleanups) { try { c(); } catch (e) { /* ignore */ } }
    cleanups = [];
    clearError();
    const main = page();
    main.removeAttribute('data-ready');
    const hash = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
    let r = null, m = null;
    for (const x of routes) { m = hash.match(x.re); if (m) { r = x; break; } }
    if (!r) { r = { name: 'notfound', fn: notFoundPage }; m = [hash]; }
    main.setAttribute('data-page', r.name);
    clear(main);
    main.appendChild(h('p', { class: 'muted loading' }, 'Loading…'));
    document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', navFor(r.name) === a.getAttribute('data-nav')));
    const ctx = {
      token,
      alive: () => token === renderToken,
      onCleanup: (f) => cleanups.push(f),
    };
    try {
      const content = await r.fn(ctx, ...m.slice(1));
      if (!ctx.alive()) return;
      clear(main);
      if (content) append(main, [content]);
    } catch (e) {
      if (!ctx.alive()) return;
      clear(main);
      main.appendChild(h('h1', null, 'Could not load this page'));
      showError(e);
    }
    if (ctx.alive()) {
      main.setAttribute('data-ready', '1');
      decorateAccounts(main);
    }
  }

  // Label account links with their organisation and role (shown by CSS from data-org, so the
  // links' text stays the address or name).
  const orgs = new Map(); // address -> "org-1 · admin" | null
  async function decorateAccounts(root) {
    const links = [...root.querySelectorAll('a[href^="#/account/"]')];
    const addrOf = (a) => a.getAttribute('href').slice('#/account/'.length, '#/account/'.length + 66);
    const todo = [...new Set(links.map(addrOf))].filter((x) => /^0x[0-9a-f]{64}$/.test(x) && !orgs.has(x)).slice(0, 100);
    if (todo.length) {
      try {
        const r = await rpcBatch(todo.map((x) => ['vellum_getAccount', [x]]));
        r.forEach((x, i) => orgs.set(todo[i], x.result ? x.result.organisation + (x.result.role === 'admin' ? ' · admin' : '') : null));
      } catch (e) { return; }
    }
    for (const a of links) {
      const o = orgs.get(addrOf(a));
      if (o && !a.hasAttribute('data-org')) { a.setAttribute('data-org', o); a.title = addrOf(a) + ' (' + o + ')'; }
    }
  }
  function navFor(name) {
    return { overview: 'overview', blocks: 'blocks', block: 'blocks', transaction: 'blocks', contracts: 'contracts', contract: 'contracts',
      apps: 'apps', lots: 'apps', trace: 'apps', document: 'apps', meeting: 'apps', meetings: 'apps', points: 'apps', issuers: 'apps', escrow: 'apps' }[name];
  }

  function section(title, ...kids) { return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...kids); }
  function kv(rows) {
    // A row is [label, content, data-field?, raw value?]; the raw value goes in data-value.
    return h('dl', { class: 'kv' }, rows.filter(Boolean).map(([k, v, field, raw]) => [h('dt', null, k),
      h('dd', field ? { 'data-field': field, 'data-value': raw == null ? null : String(raw) } : null, v == null ? '–' : v)]));
  }
  function table(headers, rows, attrs) {
    return h('table', Object.assign({ class: 'grid' }, attrs || {}),
      h('thead', null, h('tr', null, headers.map((x) => h('th', null, x)))),
      h('tbody', null, rows.length ? rows : h('tr', { class: 'empty' }, h('td', { colspan: headers.length }, 'Nothing yet.'))));
  }
  function pager(prevHref, nextHref, info) {
    return h('div', { class: 'pager' },
      prevHref ? link(prevHref, '← Newer') : h('span', { class: 'muted' }, '← Newer'),
      info ? h('span', { class: 'muted' }, info) : null,
      nextHref ? link(nextHref, 'Older →') : h('span', { class: 'muted' }, 'Older →'));
  }

  // ---------------------------------------------------------------- overview
  const WINDOW_MS = 5 * 60 * 1000;
  function median(xs) {
    if (!xs.length) return null;
    const a = xs.slice().sort((x, y) => x - y);
    const m = a.length >> 1;
    return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
  }
  function fmtMs(ms) {
    if (ms == null) return '–';
    return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }

  async function overviewPage(ctx) {
    const status = await rpc('vellum_status');
    state.status = status;
    const head = status.height;
    // Recent headers (hashes only), 300 at a time, until they cover the chart window
    // (at most 2,400 blocks back).
    const sealP = rpcBatch([['vellum_getSeal', [status.finalized_tip || head]]]);
    let blocks = [];
    let top = head;
    while (top >= 1 && head - top < 2400) {
      const calls = [];
      for (let x = top; x >= Math.max(1, top - 299); x--) calls.push(['vellum_getBlockByNumber', [x]]);
      const res = await rpcBatch(calls);
      const got = res.filter((r) => r.result).map((r) => r.result);
      blocks = got.concat(blocks);
      top -= 300;
      const oldest = got.length ? Math.min(...got.map((b) => b.time_ms)) : 0;
      if (!got.length || oldest < status.time_ms - WINDOW_MS) break;
    }
    blocks.sort((a, b) => a.height - b.height);
    const sealInfo = (await sealP)[0].result || null;

    const heightEl = h('b', { id: 'height', class: 'big' }, num(head));
    const headTime = h('span', null, timeEl(status.time_ms));
    const stats = {};
    const statCell = (label, id, note) => {
      stats[id] = h('div', { class: 'statv', id: 'stat-' + id }, '–');
      return h('div', { class: 'stat' }, h('div', { class: 'statl' }, label), stats[id], note ? h('div', { class: 'small muted' }, note) : null);
    };
    const statsRow = h('div', { class: 'stats' },
      h('div', { class: 'stat' }, h('div', { class: 'statl' }, 'Height (live)'), heightEl, h('div', { class: 'small muted' }, headTime)),
      statCell('Median block interval', 'interval', 'over the blocks in the chart window'),
      statCell('Finalized tip', 'final', 'head − finalized tip, per vellum_status'),
      statCell('Finality', 'latency', 'BFT: a committed block is final; latency ≈ lag × interval'),
      statCell('Throughput', 'tps', 'tx/s over the chart window'));

    const chartBox = h('div', { class: 'chartbox' });
    const validatorsBody = h('tbody');
    const validatorsTable = h('table', { class: 'grid', id: 'validators' },
      h('thead', null, h('tr', null, ['Name', 'Organisation', 'Public key', 'Blocks proposed (window)', 'Last block proposed'].map((x) => h('th', null, x)))),
      validatorsBody);
    const latestBody = h('tbody');
    const latestTable = h('table', { class: 'grid', id: 'latest-blocks' },
      h('thead', null, h('tr', null, ['Height', 'Hash', 'Age', 'Proposer', 'Txs', 'Fuel'].map((x) => h('th', null, x)))),
      latestBody);
    const nodeBox = h('div');
    const txBody = h('tbody');
    const txTable = h('table', { class: 'grid', id: 'latest-txs' },
      h('thead', null, h('tr', null, ['Hash', 'Block', 'Age', 'Method', 'Contract', 'Status'].map((x) => h('th', null, x)))), txBody);
    const txCache = new Map();
    let txKey = '';
    async function drawTxs() {
      const recent = [];
      for (let i = blocks.length - 1; i >= 0 && recent.length < 10; i--) {
        const b = blocks[i];
        for (let j = (b.transactions || []).length - 1; j >= 0 && recent.length < 10; j--) recent.push({ hash: b.transactions[j], height: b.height, time: b.time_ms });
      }
      const key = recent.map((t) => t.hash).join();
      if (key === txKey) return;
      txKey = key;
      const todo = recent.filter((t) => !txCache.has(t.hash));
      if (todo.length) {
        const res = await rpcBatch(todo.flatMap((t) => [['vellum_getTransaction', [t.hash]], ['vellum_getTransactionReceipt', [t.hash]]]));
        todo.forEach((t, i) => txCache.set(t.hash, { tx: res[2 * i].result, rc: res[2 * i + 1].result }));
      }
      if (!ctx.alive()) return;
      clear(txBody);
      if (!recent.length) txBody.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No transactions in the last ' + num(blocks.length) + ' blocks.')));
      for (const t of recent) {
        const c = txCache.get(t.hash) || {};
        const d = c.tx && c.tx.transaction;
        const a = d ? actionSummary(d) : {};
        const ca = a.contract || (c.rc && c.rc.contract);
        const cc = ca ? state.contracts.get(ca) : null;
        txBody.appendChild(h('tr', { 'data-tx': t.hash }, h('td', null, txLink(t.hash, 4)), h('td', null, blockLink(t.height)), h('td', null, agoEl(t.time)),
          h('td', null, h('b', null, a.method || '–')), h('td', null, ca ? link('#/contract/' + ca, cc && cc.interface ? cc.interface.contract : short(ca, 4), ca) : '–'),
          h('td', null, c.rc ? badge(c.rc.status) : '–')));
      }
    }

    function drawNode() {
      const st = state.status;
      clear(nodeBox).appendChild(kv([
        ['Role', badge(st.role)],
        ['Syncing', st.syncing ? badge('pending', 'syncing') : badge('success', 'in sync')],
        ['Halted', st.halted ? h('div', null, badge('failed', 'halted'), jsonBlock(st.halted)) : badge('success', 'no')],
        ['Peers', num(st.peers)],
        ['Mempool', num(st.mempool && st.mempool.transactions) + ' txs · ' + num(st.mempool && st.mempool.bytes) + ' bytes'],
        ['Head hash', blockHashLink(st.hash)],
        ['State root', hashText(st.state_root, 10)],
        ['Chain id', st.chain_id],
      ]));
    }

    function draw() {
      const now = Date.now();
      const headT = blocks.length ? blocks[blocks.length - 1].time_ms : now;
      const inWin = blocks.filter((b) => b.time_ms >= headT - WINDOW_MS);
      const intervals = [];
      for (let i = 1; i < inWin.length; i++) intervals.push(inWin[i].time_ms - inWin[i - 1].time_ms);
      const med = median(intervals);
      stats.interval.textContent = fmtMs(med);
      const st = state.status;
      const lag = Math.max(0, (state.head ? state.head.height : st.height) - (st.finalized_tip || 0));
      clear(stats.final).appendChild(h('span', null, num(st.finalized_tip), h('span', { class: 'small muted' }, ' (lag ' + lag + ')')));
      clear(stats.latency).appendChild(h('span', null, med == null ? '–' : '≈ ' + fmtMs(Math.max(1, lag) * med),
        sealInfo ? h('div', { class: 'small muted' }, 'block ' + num(sealInfo.height) + ': ' + (sealInfo.certified ? 'certified by ' + sealInfo.signers + ' of ' + st.validators.length : 'no certificate yet')) : null));
      const span = inWin.length > 1 ? (inWin[inWin.length - 1].time_ms - inWin[0].time_ms) / 1000 : 0;
      const txs = inWin.reduce((a, b) => a + (b.transactions ? b.transactions.length : 0), 0);
      stats.tps.textContent = span > 0 ? (txs / span).toFixed(2) + ' tx/s · ' + (inWin.length / span).toFixed(2) + ' blk/s' : '–';
      clear(chartBox).appendChild(drawChart(inWin, headT));
      // validators
      const lastBy = new Map(), countBy = new Map();
      for (const b of blocks) {
        lastBy.set(b.proposer, b);
        if (b.time_ms >= headT - WINDOW_MS) countBy.set(b.proposer, (countBy.get(b.proposer) || 0) + 1);
      }
      clear(validatorsBody);
      for (const v of st.validators) {
        const lb = lastBy.get(v.public_key);
        validatorsBody.appendChild(h('tr', { 'data-validator': v.public_key },
          h('td', null, h('b', null, v.name)), h('td', null, v.organisation), h('td', null, hashText(v.public_key, 8)),
          h('td', { class: 'num' }, num(countBy.get(v.public_key) || 0)),
          h('td', null, lb ? [blockLink(lb.height), ' · ', agoEl(lb.time_ms)] : h('span', { class: 'muted' }, 'none in the last ' + blocks.length + ' blocks'))));
      }
      clear(latestBody);
      for (const b of blocks.slice(-15).reverse()) latestBody.appendChild(blockRow(b, true));
    }

    for (const v of status.validators) state.validators.set(v.public_key, v);
    await loadContracts();
    drawNode();
    draw();
    await drawTxs();

    // Live: blocks from the subscription; status every 5 s.
    let dirty = false;
    const onBlock = (b) => {
      if (!ctx.alive()) return;
      const lastH = blocks.length ? blocks[blocks.length - 1].height : b.height - 1;
      if (b.height <= lastH) return;
      if (b.height > lastH + 1 && b.height - lastH < 500) {
        // Blocks that arrived before this page subscribed: read them and slot them in.
        const calls = [];
        for (let x = lastH + 1; x < b.height; x++) calls.push(['vellum_getBlockByNumber', [x]]);
        rpcBatch(calls).then((res) => {
          const have = new Set(blocks.map((x) => x.height));
          for (const r of res) if (r.result && !have.has(r.result.height)) blocks.push(r.result);
          blocks.sort((x, y) => x.height - y.height);
          dirty = true;
        }).catch(() => {});
      }
      blocks.push(b);
      if (blocks.length > 2000) blocks = blocks.slice(-2000);
      heightEl.textContent = num(b.height);
      clear(headTime).appendChild(timeEl(b.time_ms));
      dirty = true;
    };
    live.listeners.add(onBlock);
    const t1 = setInterval(() => { if (dirty) { dirty = false; draw(); drawTxs().catch(() => {}); } }, 1000);
    const t2 = setInterval(async () => {
      try { state.status = await rpc('vellum_status'); if (ctx.alive()) drawNode(); } catch (e) { /* shown on next load */ }
    }, 5000);
    ctx.onCleanup(() => { live.listeners.delete(onBlock); clearInterval(t1); clearInterval(t2); });

    return [
      h('h1', null, 'Overview'),
      statsRow,
      section('Blocks and transactions per second, last ' + WINDOW_MS / 60000 + ' minutes (10 s buckets, from block times; live)', chartBox),
      h('div', { class: 'cols' },
        section('Validators (activity from the last ' + num(blocks.length) + ' blocks’ proposers)', validatorsTable),
        section('This node', nodeBox)),
      h('div', { class: 'cols2' },
        section('Latest blocks', latestTable, h('p', null, link('#/blocks', 'All blocks →'), ' · ', link('#/blocks/txs', 'Blocks with transactions →'))),
        section('Latest transactions', txTable)),
    ];
  }

  function blockRow(b, compact) {
    const n = b.transactions ? b.transactions.length : 0;
    return h('tr', { 'data-height': b.height },
      h('td', null, blockLink(b.height)), h('td', null, compact ? link('#/block/' + b.hash, short(b.hash, 4), b.hash, 'mono') : blockHashLink(b.hash)), h('td', null, compact ? agoEl(b.time_ms) : timeEl(b.time_ms)),
      h('td', null, proposerEl(b.proposer)), h('td', { class: 'num' + (n ? '' : ' muted') }, num(n)), h('td', { class: 'num' }, num(b.fuel_used)));
  }

  function fmtAxis(v) { return v === 0 ? '0' : v >= 10 ? String(Math.round(v)) : String(Number(v.toPrecision(2))); }
  function drawChart(blocks, endT) {
    const W = 1180, H = 190, L = 44, R = 44, T = 12, B = 26;
    const bucket = 10000, nb = WINDOW_MS / bucket;
    const start = endT - WINDOW_MS;
    const bl = new Array(nb).fill(0), tx = new Array(nb).fill(0);
    for (const b of blocks) {
      const i = Math.min(nb - 1, Math.floor((b.time_ms - start) / bucket));
      if (i < 0) continue;
      bl[i] += 1; tx[i] += b.transactions ? b.transactions.length : 0;
    }
    const bps = bl.map((x) => x / (bucket / 1000)), tps = tx.map((x) => x / (bucket / 1000));
    const maxB = Math.max(0.1, ...bps), maxT = Math.max(0.1, ...tps);
    const niceMax = (m) => { const p = Math.pow(10, Math.floor(Math.log10(m))); return [1, 2, 4, 6, 8, 10].map((k) => k * p).find((x) => x >= m); };
    const mB = niceMax(maxB), mT = niceMax(maxT);
    const pw = W - L - R, ph = H - T - B, bw = pw / nb;
    const svg = s('svg', { id: 'chart', viewBox: `0 0 ${W} ${H}`, width: '100%', height: H, role: 'img', 'aria-label': 'blocks and transactions per second' });
    for (let g = 0; g <= 4; g++) {
      const y = T + ph - (ph * g) / 4;
      svg.appendChild(s('line', { x1: L, x2: L + pw, y1: y, y2: y, stroke: '#e5e7eb', 'stroke-width': 1 }));
      svg.appendChild(s('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#2563eb' }, fmtAxis(mT * g / 4)));
      svg.appendChild(s('text', { x: L + pw + 6, y: y + 4, 'font-size': 10, fill: '#6b7280' }, fmtAxis(mB * g / 4)));
    }
    // transactions per second as bars
    tps.forEach((v, i) => {
      if (!v) return;
      const hh = (ph * v) / mT;
      svg.appendChild(s('rect', { x: L + i * bw + 1, y: T + ph - hh, width: Math.max(1, bw - 2), height: hh, fill: '#93c5fd' },
        s('title', null, `${localTime(start + i * bucket)}: ${v.toFixed(2)} tx/s, ${bps[i].toFixed(2)} blocks/s`)));
    });
    // blocks per second as a line
    const pts = bps.map((v, i) => `${(L + i * bw + bw / 2).toFixed(1)},${(T + ph - (ph * v) / mB).toFixed(1)}`).join(' ');
    svg.appendChild(s('polyline', { points: pts, fill: 'none', stroke: '#374151', 'stroke-width': 1.5 }));
    for (let m = 0; m <= WINDOW_MS / 60000; m++) {
      const x = L + (pw * m * 60000) / WINDOW_MS;
      svg.appendChild(s('text', { x, y: H - 8, 'text-anchor': 'middle', 'font-size': 10, fill: '#6b7280' }, m === WINDOW_MS / 60000 ? 'head' : '−' + (WINDOW_MS / 60000 - m) + ' min'));
    }
    svg.appendChild(s('rect', { x: L + 4, y: T + 2, width: 10, height: 10, fill: '#93c5fd' }));
    svg.appendChild(s('text', { x: L + 18, y: T + 11, 'font-size': 11, fill: '#1f2937' }, 'transactions / s (left axis)'));
    svg.appendChild(s('line', { x1: L + 190, x2: L + 204, y1: T + 7, y2: T + 7, stroke: '#374151', 'stroke-width': 2 }));
    svg.appendChild(s('text', { x: L + 208, y: T + 11, 'font-size': 11, fill: '#1f2937' }, 'blocks / s (right axis)'));
    return svg;
  }

  // ---------------------------------------------------------------- blocks
  const BLOCKS_PAGE = 25;
  async function blocksPage(ctx, txsOnly, startStr) {
    const status = await rpc('vellum_status');
    state.status = status;
    const head = status.height;
    const start = startStr ? Math.min(head, Number(startStr)) : head;
    const base = txsOnly ? '#/blocks/txs/' : '#/blocks/';
    const toggle = h('p', { class: 'small' }, txsOnly
      ? ['Showing only blocks with transactions. ', link('#/blocks', 'Show all blocks')]
      : ['Showing all blocks. ', link('#/blocks/txs', 'Show only blocks with transactions')]);
    const rows = [];
    let lowest = start, scanned = 0;
    if (!txsOnly) {
      const calls = [];
      for (let x = start; x >= Math.max(0, start - BLOCKS_PAGE + 1); x--) calls.push(['vellum_getBlockByNumber', [x]]);
      const res = await rpcBatch(calls);
      for (const r of res) { if (r.error) showError(r.error); else rows.push(blockRow(r.result)); }
      lowest = Math.max(0, start - BLOCKS_PAGE + 1);
    } else {
      // Walk back 200 headers at a time until a page is full (at most 5,000 blocks per page).
      let top = start;
      while (rows.length < BLOCKS_PAGE && top >= 0 && scanned < 5000) {
        const calls = [];
        for (let x = top; x >= Math.max(0, top - 199); x--) calls.push(['vellum_getBlockByNumber', [x]]);
        const res = await rpcBatch(calls);
        for (const r of res) {
          if (r.error) { showError(r.error); continue; }
          if (rows.length >= BLOCKS_PAGE) break;
          lowest = r.result.height;
          if (r.result.transactions.length) rows.push(blockRow(r.result));
        }
        scanned += calls.length;
        if (rows.length >= BLOCKS_PAGE) break;
        lowest = Math.max(0, top - 199);
        top -= 200;
      }
    }
    const newer = start < head ? (txsOnly ? '#/blocks/txs' : base + Math.min(head, start + BLOCKS_PAGE)) : null;
    const older = lowest >= 1 ? base + (lowest - 1) : null;
    return [
      h('h1', null, 'Blocks'),
      h('p', { class: 'muted' }, txsOnly
        ? `Blocks with transactions between heights ${num(lowest)} and ${num(start)} (head ${num(head)}), newest first.`
        : `Heights ${num(lowest)}–${num(start)} of ${num(head)}, newest first.`),
      toggle,
      pager(newer, older),
      table(['Height', 'Hash', 'Time', 'Proposer', 'Txs', 'Fuel'], rows, { id: 'blocks' }),
      pager(newer, older),
    ];
  }

  function actionSummary(tx) {
    const a = tx.action || {};
    const k = Object.keys(a)[0];
    if (k === 'call') return { kind: 'call', method: a.call.method, contract: a.call.contract, args: a.call.args };
    if (k === 'deploy') return { kind: 'deploy', method: 'deploy', contract: null, args: a.deploy.init_args };
    if (k === 'upgrade') return { kind: 'upgrade', method: 'upgrade', contract: a.upgrade.contract, args: a.upgrade.migrate_args || a.upgrade.args };
    return { kind: k, method: k, contract: null, args: null };
  }

  async function blockPage(ctx, id) {
    const isHash = /^0x[0-9a-fA-F]{64}$/.test(id);
    if (!isHash && !/^\d+$/.test(id)) throw new RpcError('route', { message: 'not a block height or hash: ' + id });
    if (!state.validators.size) { const st = await rpc('vellum_status'); state.status = st; for (const v of st.validators) state.validators.set(v.public_key, v); }
    await loadContracts();
    const method = isHash ? 'vellum_getBlockByHash' : 'vellum_getBlockByNumber';
    const key = isHash ? id.toLowerCase() : Number(id);
    let block, full = true, note = null;
    try {
      block = await rpc(method, [key, true]);
    } catch (e) {
      if (e.code !== -32021) throw e;
      full = false;
      note = 'This block is too large to read in full at once (-32021); its transactions were read one by one.';
      block = await rpc(method, [key, false]);
    }
    let items = [];
    if (full) items = block.transactions;
    else {
      const calls = [];
      for (const hh of block.transactions) { calls.push(['vellum_getTransaction', [hh]]); calls.push(['vellum_getTransactionReceipt', [hh]]); }
      const res = await rpcBatch(calls);
      for (let i = 0; i < block.transactions.length; i++) {
        const t = res[2 * i], r = res[2 * i + 1];
        items.push({ transaction: t.result ? Object.assign({ hash: block.transactions[i] }, t.result.transaction) : { hash: block.transactions[i] }, receipt: r.result || null });
      }
    }
    let seal = null;
    try { seal = await rpc('vellum_getSeal', [block.height]); } catch (e) { /* no seal yet */ }
    const rows = items.map((it, i) => {
      const t = it.transaction, r = it.receipt || {};
      const a = actionSummary(t);
      return h('tr', { 'data-tx': t.hash },
        h('td', { class: 'num' }, i), h('td', null, txLink(t.hash)),
        h('td', null, h('b', null, a.method || '–')),
        h('td', null, a.kind === 'deploy' && r.contract ? ['→ ', contractLink(r.contract)] : a.contract ? contractLink(a.contract) : '–'),
        h('td', null, accountLink(t.sender_address)),
        h('td', null, r.status ? badge(r.status) : '–'),
        h('td', { class: 'num' }, num(r.fuel_used)));
    });
    return [
      h('h1', null, 'Block ' + num(block.height)),
      h('div', { class: 'pager' }, block.height > 0 ? link('#/block/' + (block.height - 1), '← Parent') : h('span'), link('#/block/' + (block.height + 1), 'Child →')),
      section(null, kv([
        ['Height', num(block.height), 'height', block.height],
        ['Hash', copyable(block.hash), 'hash', block.hash],
        ['Parent', block.height > 0 ? blockHashLink(block.parent) : h('span', { class: 'mono', title: 'genesis: no parent block' }, block.parent), 'parent'],
        ['Time', timeEl(block.time_ms), 'time'],
        ['Proposer', /^0x0+$/.test(block.proposer) ? 'none (genesis)' : h('span', null, proposerEl(block.proposer), ' ', hashText(block.proposer, 8)), 'proposer'],
        ['Transactions', num(block.transactions.length)],
        ['Fuel used', num(block.fuel_used), 'fuel_used', block.fuel_used],
        ['Transactions root', copyable(block.transactions_root), 'transactions_root'],
        ['Receipts root', copyable(block.receipts_root), 'receipts_root'],
        ['State root', copyable(block.state_root), 'state_root'],
        ['Schedule version', num(block.schedule_version)],
        ['Seal', seal ? h('span', null, seal.certified ? badge('success', 'certified') : badge('pending', 'not certified yet'), ` epoch ${seal.epoch} · view ${seal.view} · ${seal.signers} signers`) : h('span', { class: 'muted' }, 'none yet')],
      ])),
      note ? h('p', { class: 'note' }, note) : null,
      section('Transactions', table(['#', 'Hash', 'Method', 'Contract', 'Sender', 'Status', 'Fuel'], rows, { id: 'block-txs' })),
    ];
  }

  // ---------------------------------------------------------------- transaction
  async function txPage(ctx, hash) {
    await loadContracts();
    const [t, r] = await rpcBatch([['vellum_getTransaction', [hash]], ['vellum_getTransactionReceipt', [hash]]]);
    if (t.error) throw t.error;
    const tx = t.result;
    if (tx.status === 'pending') {
      return [h('h1', null, 'Transaction'), section(null, kv([['Hash', copyable(hash), 'hash', hash], ['Status', badge('pending', 'pending'), 'status', 'pending']])),
        h('p', { class: 'muted' }, 'In this node’s mempool, not yet committed. Reload to see it once it is in a block.')];
    }
    const d = tx.transaction;
    const rc = r.result || null;
    const a = actionSummary(d);
    const args = a.kind === 'call' || a.kind === 'deploy' || a.kind === 'upgrade' ? parseMaybeJson(a.args) : d.action[a.kind];
    const st = rc ? rc.status : tx.status;
    const statusEl = h('span', null, badge(st),
      rc && rc.error ? h('span', { class: 'errmsg' }, ' ', rc.error.code != null ? 'error ' + rc.error.code + ': ' : '', rc.error.message) : null);
    const events = rc ? rc.events : [];
    const actionRows = [];
    if (a.kind === 'call') {
      actionRows.push(['Contract', contractLink(a.contract), 'contract']);
      actionRows.push(['Method', h('b', null, a.method), 'method']);
    } else if (a.kind === 'deploy') {
      actionRows.push(['Action', 'deploy', 'method']);
      actionRows.push(['Code', h('span', null, hashText(d.action.deploy.code_hash, 10), ' · ' + num(d.action.deploy.code_bytes) + ' bytes')]);
      actionRows.push(['Created contract', rc && rc.contract ? contractLink(rc.contract) : '–', 'contract']);
    } else {
      actionRows.push(['Action', h('b', null, a.kind), 'method']);
    }
    return [
      h('h1', null, 'Transaction'),
      section(null, kv([
        ['Hash', copyable(d.hash || hash), 'hash', d.hash || hash],
        ['Status', statusEl, 'status', st],
        ['Block', h('span', null, blockLink(tx.height), ' · index ', link('#/block/' + tx.height, String(tx.index))), 'height', tx.height],
        ['Sender', h('span', null, accountLink(d.sender_address), ' ', h('span', { class: 'small muted mono', title: 'public key' }, short(d.sender, 6))), 'sender'],
        ['Nonce', num(d.nonce), 'nonce', d.nonce],
        ...actionRows,
        ['Arguments', jsonBlock(args === '' ? null : args), 'args'],
        ['Fuel used', rc ? num(rc.fuel_used) : '–', 'fuel_used', rc ? rc.fuel_used : null],
        ['Fuel limit', num(d.fuel_limit), 'fuel_limit'],
        ['Output', rc ? jsonBlock(rc.output) : '–', 'output'],
        ['Receipt hash', rc ? hashText(rc.receipt_hash, 10) : '–'],
        ['Receipt proof', rc ? proofEl(hash) : '–'],
        ['Chain id', d.chain_id],
      ])),
      section('Events (' + events.length + ')', events.length ? h('div', { id: 'events' }, events.map((e) => h('div', { class: 'event', 'data-event': e.event_index },
        h('div', { class: 'evhead' }, h('span', { class: 'topic' }, e.topic), ' · ', contractLink(e.contract), h('span', { class: 'muted small' }, ' #' + e.event_index)),
        jsonBlock(e.data)))) : h('p', { class: 'muted' }, 'No events.')),
    ];
  }

  // A button that fetches the receipt's proof bundle (vellum_getReceiptProof) and offers it
  // as a file for `vellum proof check`.
  function proofEl(hash) {
    const box = h('span', { id: 'receipt-proof' });
    const btn = h('button', { type: 'button', class: 'small-btn' }, 'Fetch proof');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        const p = await rpc('vellum_getReceiptProof', [hash]);
        const bytes = hexToBytes(p.proof);
        const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
        clear(box).append(badge('success', 'provable'), ' certified at block ', blockLink(p.certified_height), ' · ' + num(bytes.length) + ' bytes · ',
          h('a', { href: url, download: 'receipt-' + hash.slice(2, 14) + '.proof' }, 'download'), h('span', { class: 'small muted' }, ' (check offline with vellum proof check)'));
      } catch (e) {
        clear(box).append(h('span', { class: 'errmsg' }, e.message + (e.data ? ': ' + (typeof e.data === 'string' ? e.data : pretty(e.data)) : '')), ' ', btn);
        btn.disabled = false;
      }
    });
    box.appendChild(btn);
    box.appendChild(h('span', { class: 'small muted' }, ' proves this receipt against the genesis validators alone'));
    return box;
  }

  // ---------------------------------------------------------------- contracts
  async function contractsPage() {
    const m = await loadContracts(true);
    const rows = [...m.values()].sort((a, b) => a.deployed_at - b.deployed_at).map((c) => h('tr', { 'data-contract': c.address },
      h('td', null, link('#/contract/' + c.address, short(c.address, 8), c.address, 'mono')),
      h('td', null, h('b', null, (c.interface && c.interface.contract) || '–'), c.kind ? h('span', { class: 'small muted' }, ' · ' + KINDS[c.kind].what) : h('span', { class: 'small muted' }, ' · custom')),
      h('td', { class: 'num' }, num(c.version)),
      h('td', null, c.owner),
      h('td', null, accountLink(c.deployer)),
      h('td', null, blockLink(c.deployed_at)),
      h('td', null, c.kind ? link(KINDS[c.kind].route(c.address), 'open ' + KINDS[c.kind].label + ' →') : '')));
    return [h('h1', null, 'Contracts'), h('p', { class: 'muted' }, num(m.size) + ' deployed contracts. The kind is recognised from each contract’s interface methods.'),
      table(['Address', 'Kind', 'Version', 'Owner', 'Deployer', 'Deployed at', 'Use case'], rows, { id: 'contracts' })];
  }

  function argTemplate(type) {
    type = type.replace(/\s+/g, '');
    if (/^Option<(.*)>$/.test(type)) return null;
    if (/^(u|i)(8|16|32|64|128|size)$/.test(type)) return 0;
    if (type === 'bool') return false;
    if (type === 'String' || type === '&str') return '';
    if (type === 'Address') return '0x' + '0'.repeat(64);
    if (type === 'Hash') return '0x' + '0'.repeat(64);
    if (/^Vec<.*>$/.test(type)) return [];
    if (/^\(.*\)$/.test(type)) return type.slice(1, -1).split(',').map(argTemplate);
    if (type === 'Choice') return 'for';
    if (type === 'Role') return 'farm';
    return null;
  }
  function templateFor(m) {
    const o = {};
    for (const a of m.args) o[a.name] = argTemplate(a.type);
    return JSON.stringify(o, null, 2);
  }

  // Borsh of the ledger's contract record: code_hash[32], version u32, deployer[32],
  // owner String, deployed_at u64, interface String (as observed on this node).
  function decodeContractRecord(hex) {
    try {
      const b = hexToBytes(hex);
      const dv = new DataView(b.buffer);
      let o = 0;
      const codeHash = bytesToHex(b.slice(o, o + 32)); o += 32;
      const version = dv.getUint32(o, true); o += 4;
      const deployer = bytesToHex(b.slice(o, o + 32)); o += 32;
      const ol = dv.getUint32(o, true); o += 4;
      const owner = new TextDecoder().decode(b.slice(o, o + ol)); o += ol;
      const deployedAt = Number(dv.getBigUint64(o, true)); o += 8;
      if (o > b.length || version > 1e6) return null;
      return { codeHash, version, deployer, owner, deployedAt };
    } catch (e) { return null; }
  }

  async function contractPage(ctx, addr) {
    await loadContracts();
    const c = await rpc('vellum_getContract', [addr]);
    c.kind = kindOf(c);
    const methods = (c.interface && c.interface.methods) || [];
    const queries = methods.filter((m) => m.kind === 'query');

    // interface
    const ifaceRows = methods.map((m) => h('tr', { 'data-method': m.name },
      h('td', null, h('b', { class: 'mono' }, m.name)), h('td', null, badge(m.kind === 'query' ? 'open' : m.kind === 'execute' ? 'pending' : 'neutral', m.kind)),
      h('td', { class: 'mono small' }, m.args.length ? m.args.map((a, i) => [i ? ', ' : '', h('span', null, a.name), h('span', { class: 'muted' }, ': ' + a.type)]) : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'mono small' }, m.returns), h('td', { class: 'small' }, m.doc || '')));

    // query form
    const sel = h('select', { name: 'method' }, queries.map((m) => h('option', { value: m.name }, m.name)));
    const ta = h('textarea', { name: 'args', rows: 6, spellcheck: 'false' });
    const hi = h('input', { name: 'height', type: 'number', min: 0, placeholder: 'head' });
    const out = h('div', { id: 'query-result' });
    const setTemplate = () => { const m = queries.find((x) => x.name === sel.value); ta.value = m ? templateFor(m) : '{}'; };
    sel.addEventListener('change', setTemplate);
    setTemplate();
    const form = h('form', { id: 'query', class: 'qform' },
      h('label', null, 'Method ', sel), h('label', null, 'Height ', hi), h('button', { type: 'submit' }, 'Run query'),
      h('label', { class: 'block' }, 'Arguments (JSON)', ta), out);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(out).appendChild(h('p', { class: 'muted' }, 'Running…'));
      out.removeAttribute('data-ok');
      const argText = ta.value.trim() || '{}';
      try { JSON.parse(argText); } catch (e) { clear(out).appendChild(h('p', { class: 'errmsg' }, 'Arguments are not valid JSON: ' + e.message)); return; }
      try {
        // The arguments go as typed (not re-serialized), so integers past 2^53 keep their digits.
        const params = '[' + JSON.stringify(addr) + ',' + JSON.stringify(sel.value) + ',' + argText + (hi.value !== '' ? ',' + Number(hi.value) : '') + ']';
        const body = '{"jsonrpc":"2.0","id":' + (++rpcId) + ',"method":"vellum_query","params":' + params + '}';
        const raw = await post(null, body);
        if (raw.error) throw new RpcError('vellum_query', raw.error);
        const r = raw.result;
        clear(out).appendChild(h('div', null, h('p', { class: 'small muted' }, 'at height ' + num(r.height) + ' · ' + num(r.fuel_used) + ' fuel'), jsonBlock(r.output)));
        out.setAttribute('data-ok', '1');
      } catch (e) {
        clear(out).appendChild(h('div', { class: 'errmsg' }, h('b', null, e.message + (e.code ? ' (' + e.code + ')' : '')), e.data !== undefined ? jsonBlock(e.data) : null));
        out.setAttribute('data-ok', '0');
      }
    });

    // version history from the ledger's contract record
    const Z = '0x' + '0'.repeat(64);
    const recKey = textToHex('contract/') + addr.slice(2);
    let versions = [];
    try { versions = (await rpc('vellum_getHistory', [Z, recKey, { order: 'desc', limit: 100 }])).versions; } catch (e) { showError(e, 'version history'); }
    const histRows = versions.map((v) => {
      const d = v.value && v.value.hex ? decodeContractRecord(v.value.hex) : null;
      return h('tr', { 'data-version': d ? d.version : '' }, h('td', null, blockLink(v.height)), h('td', { class: 'num' }, v.index),
        h('td', null, d ? 'v' + d.version : v.removed ? 'removed' : '?'), h('td', null, d ? hashText(d.codeHash, 8) : '–'), h('td', null, d ? d.owner : '–'));
    });

    // storage browser
    const storage = h('div', { id: 'storage-box' });
    const keyHist = h('div', { id: 'key-history' });
    const cursors = [null];
    let pageIx = 0;
    async function loadStorage() {
      const p = { limit: 25 };
      if (cursors[pageIx]) p.cursor = cursors[pageIx];
      try {
        const r = await rpc('vellum_getRange', [addr, p]);
        cursors[pageIx + 1] = r.next_cursor;
        const rows = r.entries.map((e) => h('tr', { 'data-key': e.key.hex },
          h('td', null, h('a', { href: '#', class: 'keylink', onclick: (ev) => { ev.preventDefault(); showKeyHistory(e.key); } }, keyEl(e.key))),
          h('td', null, valueEl(e.value && e.value.hex))));
        clear(storage).append(
          h('div', { class: 'pager' },
            pageIx > 0 ? h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); pageIx--; loadStorage(); } }, '← Previous') : h('span', { class: 'muted' }, '← Previous'),
            h('span', { class: 'muted' }, 'page ' + (pageIx + 1)),
            r.next_cursor ? h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); pageIx++; loadStorage(); } }, 'Next →') : h('span', { class: 'muted' }, 'Next →')),
          table(['Key', 'Value'], rows, { id: 'storage' }));
      } catch (e) { showError(e, 'storage'); }
    }
    async function showKeyHistory(key) {
      document.querySelectorAll('#storage tr.sel').forEach((x) => x.classList.remove('sel'));
      const tr = document.querySelector('#storage tr[data-key="' + key.hex + '"]');
      if (tr) tr.classList.add('sel');
      keyHist.removeAttribute('data-ready');
      clear(keyHist).appendChild(h('p', { class: 'muted' }, 'Loading history…'));
      try {
        const r = await rpc('vellum_getHistory', [addr, key.hex, { order: 'desc', limit: 100 }]);
        clear(keyHist).append(h('h3', null, 'History of ', keyEl(key), h('span', { class: 'muted small' }, ' · newest first' + (r.next_cursor ? ' · first 100 versions' : ''))),
          table(['Height', 'Tx index', 'Value'], r.versions.map((v) => h('tr', { 'data-version-height': v.height },
            h('td', null, blockLink(v.height)), h('td', { class: 'num' }, v.index), h('td', null, v.removed ? badge('unknown', 'removed') : valueEl(v.value && v.value.hex))))));
        keyHist.setAttribute('data-ready', '1');
        keyHist.scrollIntoView({ block: 'nearest' });
      } catch (e) { clear(keyHist); showError(e, 'key history'); }
    }
    await loadStorage();

    let evs = [];
    try { evs = await allEvents({ contract: addr }, 5); } catch (e) { showError(e, 'events'); }
    const evRows = evs.slice(-25).reverse().map((e) => h('tr', { 'data-event': e.height + ':' + e.transaction_index + ':' + e.event_index },
      h('td', null, blockLink(e.height)), h('td', null, txLink(e.transaction, 4)), h('td', null, h('span', { class: 'topic' }, e.topic)),
      h('td', { class: 'mono small evdata' }, trunc(JSON.stringify(e.data), 160))));

    const kind = c.kind;
    return [
      h('h1', null, (c.interface && c.interface.contract) || 'Contract', ' ', h('span', { class: 'mono small muted' }, c.address)),
      kind ? h('p', { class: 'note' }, 'A ' + KINDS[kind].what.toLowerCase() + ' contract. ', link(KINDS[kind].route(addr), 'Open the ' + KINDS[kind].label + ' view →', null, 'uselink')) : null,
      section(null, kv([
        ['Address', copyable(c.address), 'address'],
        ['Code hash', copyable(c.code_hash), 'code_hash'],
        ['Version', num(c.version), 'version', c.version],
        ['Owner (organisation)', c.owner, 'owner'],
        ['Deployer', accountLink(c.deployer), 'deployer'],
        ['Deployed at', blockLink(c.deployed_at), 'deployed_at'],
        ['ABI', c.interface ? 'v' + c.interface.abi : '–'],
      ])),
      section('Interface', table(['Method', 'Kind', 'Arguments', 'Returns', 'Doc'], ifaceRows, { id: 'interface' })),
      section('Query', queries.length ? form : h('p', { class: 'muted' }, 'No query methods.')),
      section('Version history', h('p', { class: 'small muted' }, 'Versions of the ledger’s record of this contract (key contract/<address> of the ledger), newest first.'),
        table(['Height', 'Tx index', 'Version', 'Code hash', 'Owner'], histRows, { id: 'versions' })),
      section('Recent events', h('p', { class: 'small muted' }, evs.length ? 'The newest ' + Math.min(25, evs.length) + ' of ' + num(evs.length) + (evs.length >= 5000 ? '+' : '') + ' events, newest first.' : 'No events.'),
        evs.length ? table(['Block', 'Tx', 'Topic', 'Data'], evRows, { id: 'contract-events' }) : null),
      section('Storage', h('p', { class: 'small muted' }, 'Current entries in key order. Click a key for its history. Keys show printable bytes as text and other bytes as ‹hex›.'), storage, keyHist),
    ];
  }

  // ---------------------------------------------------------------- account
  async function accountPage(ctx, addr, cursor) {
    await loadContracts();
    if (state.contracts.has(addr)) { location.replace('#/contract/' + addr); return null; }
    const p = { limit: 25 };
    if (cursor) p.cursor = cursor;
    const [acc, txs] = await rpcBatch([['vellum_getAccount', [addr]], ['vellum_getAccountTransactions', [addr, p]]]);
    if (acc.error) throw acc.error;
    if (txs.error) throw txs.error;
    const a = acc.result, list = txs.result.transactions;
    const details = await rpcBatch(list.map((t) => ['vellum_getTransaction', [t.hash]]));
    const rows = list.map((t, i) => {
      const d = details[i].result && details[i].result.transaction;
      const s1 = d ? actionSummary(d) : {};
      return h('tr', { 'data-tx': t.hash }, h('td', null, txLink(t.hash)), h('td', null, blockLink(t.height)), h('td', { class: 'num' }, t.index),
        h('td', { class: 'num' }, num(t.nonce)), h('td', null, h('b', null, s1.method || '–')), h('td', null, s1.contract ? contractLink(s1.contract) : '–'), h('td', null, badge(t.status)));
    });
    return [
      h('h1', null, 'Account ', h('span', { class: 'mono small muted' }, addr)),
      section(null, kv([
        ['Address', copyable(a.address), 'address'],
        ['Organisation', a.organisation, 'organisation', a.organisation],
        ['Role', badge(a.role), 'role', a.role],
        ['Nonce', num(a.nonce), 'nonce', a.nonce],
        ['Public key', copyable(a.public_key), 'public_key'],
      ])),
      section('Transactions (newest first)',
        table(['Hash', 'Block', 'Index', 'Nonce', 'Method', 'Contract', 'Status'], rows, { id: 'account-txs' }),
        h('div', { class: 'pager' }, cursor ? link('#/account/' + addr, '← Newest') : h('span'), txs.result.next_cursor ? link('#/account/' + addr + '/' + encodeURIComponent(txs.result.next_cursor), 'Older →') : h('span', { class: 'muted' }, 'End'))),
    ];
  }

  // ---------------------------------------------------------------- search
  async function searchPage(ctx, q) {
    q = q.trim();
    if (/^\d+$/.test(q)) { location.replace('#/block/' + q); return null; }
    if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
      const x = q.toLowerCase();
      const r = await rpcBatch([['vellum_getTransaction', [x]], ['vellum_getBlockByHash', [x]], ['vellum_getContract', [x]], ['vellum_getAccount', [x]]]);
      const target = r[0].result ? '#/tx/' + x : r[1].result ? '#/block/' + x : r[2].result ? '#/contract/' + x : r[3].result ? '#/account/' + x : null;
      if (target) { location.replace(target); return null; }
    }
    return [h('h1', null, 'Nothing found'), h('p', { id: 'nothing-found', class: 'note' }, 'Nothing found for “' + q + '”. Search takes a block height, or 0x and 64 hex digits: a transaction hash, block hash, contract address or account address.')];
  }

  function notFoundPage(ctx, path) {
    return [h('h1', null, 'Page not found'), h('p', null, 'No page at ', h('code', null, path), '. ', link('#/', 'Go to the overview'))];
  }

  // ---------------------------------------------------------------- use cases
  async function appsPage() {
    const m = await loadContracts(true);
    const byKind = {};
    for (const c of m.values()) if (c.kind) (byKind[c.kind] = byKind[c.kind] || []).push(c);
    const desc = {
      notary: 'Check a document against anchored hashes: hash a file in your browser and see whether it was anchored, revoked or superseded.',
      trace: 'Follow food lots from farm to shelf: custody, splits, merges, inspections and recalls as a provenance graph.',
      ballot: 'General meetings: agendas, votes and tallies by share weight.',
      points: 'Loyalty points across issuers: supply, conversion rates, balances and swaps.',
      escrow: 'Points held for a deal, released or refunded.',
    };
    return [h('h1', null, 'Use cases'), h('div', { class: 'apps', id: 'apps' }, Object.keys(KINDS).map((k) => h('section', { class: 'card app', 'data-kind': k },
      h('h2', null, KINDS[k].what), h('p', { class: 'muted' }, desc[k]),
      (byKind[k] || []).length ? h('ul', null, byKind[k].map((c) => h('li', null, link(KINDS[k].route(c.address), KINDS[k].label + ' ' + short(c.address, 6), c.address, 'uselink'), h('span', { class: 'small muted' }, ' · v' + c.version + ' · deployed at ' + num(c.deployed_at))))) : h('p', { class: 'muted' }, 'No contract of this kind is deployed.'))))];
  }

  async function requireKind(addr, kind) {
    await loadContracts();
    let c = state.contracts.get(addr);
    if (!c) { c = await rpc('vellum_getContract', [addr]); c.kind = kindOf(c); }
    if (c.kind !== kind) throw new RpcError('route', { message: addr + ' is not a ' + KINDS[kind].label + ' contract' });
    return c;
  }
  function crumbs(...parts) { return h('div', { class: 'crumbs' }, parts.map((p, i) => [i ? ' / ' : '', p])); }

  // ---- trace
  async function partyNames(contract, addrs) {
    const uniq = [...new Set(addrs.filter(Boolean))];
    const todo = uniq.filter((a) => !state.names.has(a));
    if (todo.length) {
      const r = await rpcBatch(todo.map((a) => ['vellum_query', [contract, 'party_of', { address: a }]]));
      r.forEach((x, i) => { if (x.result && x.result.output) state.names.set(todo[i], x.result.output.name); });
    }
    return (a) => state.names.get(a) || short(a, 4);
  }

  async function lotsPage(ctx, addr) {
    await requireKind(addr, 'trace');
    const evs = await allEvents({ contract: addr });
    const lots = new Map();
    const parties = [];
    const add = (id, o) => { const l = lots.get(id) || { id, height: null }; Object.assign(l, o); lots.set(id, l); return l; };
    for (const e of evs) {
      if (e.topic === 'party_registered') {
        // Registering an address again replaces its party: keep the latest.
        const i = parties.findIndex((p) => p.address === e.data.address);
        if (i >= 0) parties.splice(i, 1);
        parties.push(Object.assign({ height: e.height }, e.data));
        state.names.set(e.data.address, e.data.name);
      }
      if (e.topic === 'lot_created') add(e.data.id, { product: e.data.product, quantity: e.data.quantity, unit: e.data.unit, origin: e.data.origin, height: e.height, how: 'created' });
      if (e.topic === 'split') for (const [id, q] of e.data[1]) add(id, { quantity: q, height: e.height, how: 'split from ' + e.data[0], from: e.data[0] });
      if (e.topic === 'merged') add(e.data[1], { height: e.height, how: 'merged from ' + e.data[0].join(', ') });
      if (e.topic === 'recalled') for (const id of e.data[0]) add(id, { recalled: e.data[1] });
      if (e.topic === 'handed_over') { const l = add(e.data[0], {}); l.hops = (l.hops || 0) + 1; }
      if (e.topic === 'inspected') { const l = add(e.data[0], {}); l.insp = (l.insp || 0) + 1; if (!e.data[2]) l.failed = true; }
    }
    // Current state of each lot (owner, quantity, product for split/merged lots).
    const ids = [...lots.keys()].slice(0, 200);
    const cur = await rpcBatch(ids.map((id) => ['vellum_query', [addr, 'lot', { id }]]));
    cur.forEach((r, i) => { if (r.result) lots.get(ids[i]).cur = r.result.output; });
    const rows = [...lots.values()].sort((a, b) => (a.height || 0) - (b.height || 0)).map((l) => {
      const c = l.cur || {};
      const recalled = c.recall || l.recalled;
      return h('tr', { 'data-lot': l.id, class: recalled ? 'recalled' : '' },
        h('td', null, link('#/trace/' + addr + '/' + encodeURIComponent(l.id), l.id)),
        h('td', null, c.product || l.product || '–'),
        h('td', { class: 'num' }, num(c.quantity != null ? c.quantity : l.quantity) + ' ' + (c.unit || l.unit || '')),
        h('td', null, c.owner ? accountLink(c.owner) : '–'),
        h('td', { class: 'small' }, l.how || '–'),
        h('td', null, blockLink(l.height)),
        h('td', { class: 'num' }, num(l.hops || 0)),
        h('td', null, recalled ? badge('recalled', 'RECALLED') : c.active === false ? badge('inactive', 'inactive') : badge('success', 'active'), l.failed ? [' ', badge('failed', 'failed inspection')] : null));
    });
    const prow = parties.map((p) => h('tr', { 'data-party': p.address }, h('td', null, h('b', null, p.name)), h('td', null, p.role), h('td', null, link('#/account/' + p.address, short(p.address), p.address, 'mono')), h('td', null, blockLink(p.height))));
    return [
      crumbs(link('#/apps', 'Use cases'), 'Trace ' + short(addr, 4)),
      h('h1', null, 'Lots ', h('span', { class: 'small muted' }, 'trace contract ', contractLink(addr))),
      h('p', { class: 'muted' }, 'Lots from the contract’s events (lot_created, split, merged); current state from the lot query. Click a lot for its provenance graph.'),
      section('Lots (' + lots.size + ')', table(['Lot', 'Product', 'Quantity', 'Holder', 'Origin', 'Since block', 'Handovers', 'Status'], rows, { id: 'lots' })),
      section('Parties (' + parties.length + ')', table(['Name', 'Role', 'Address', 'Registered at (latest)'], prow, { id: 'parties' })),
    ];
  }

  async function tracePage(ctx, addr, lotId) {
    await requireKind(addr, 'trace');
    const prov = await query(addr, 'trace', { lot: lotId });
    const all = [prov.lot, ...prov.upstream, ...prov.downstream];
    const addrs = [];
    for (const x of all) { addrs.push(x.lot.owner, x.lot.origin); for (const c of x.custody) addrs.push(c.from, c.to); for (const i of x.inspections) addrs.push(i.inspector); }
    const name = await partyNames(addr, addrs);
    const svg = drawProvenance(addr, prov, name);
    const L = prov.lot.lot;
    const custRows = prov.lot.custody.map((c, i) => h('tr', { 'data-custody': i }, h('td', { class: 'num' }, i + 1), h('td', null, name(c.from)), h('td', null, name(c.to)), h('td', null, blockLink(c.height)), h('td', null, timeEl(c.at_ms))));
    const inspRows = all.flatMap((x) => x.inspections.map((i) => h('tr', null, h('td', null, x.lot.id), h('td', null, name(i.inspector)), h('td', null, badge(i.passed ? 'passed' : 'failed', i.passed ? 'pass' : 'fail')), h('td', null, i.notes), h('td', null, timeEl(i.at_ms)))));
    return [
      crumbs(link('#/apps', 'Use cases'), link('#/trace/' + addr, 'Trace ' + short(addr, 4)), lotId),
      h('h1', null, 'Provenance of ', h('span', { class: 'mono' }, L.id), ' ', L.recall ? badge('recalled', 'RECALLED') : null),
      L.recall ? h('p', { class: 'recallnote' }, 'Recalled: “' + L.recall.reason + '”' + (L.recall.source !== L.id ? ' (recall issued on ancestor ' + L.recall.source + ')' : '') + ' · ', timeEl(L.recall.at_ms)) : null,
      section(null, kv([
        ['Product', L.product], ['Quantity', num(L.quantity) + ' ' + L.unit], ['Holder', link('#/account/' + L.owner, name(L.owner), L.owner)],
        ['Origin', link('#/account/' + L.origin, name(L.origin), L.origin)], ['Created', timeEl(L.created_at_ms)], ['Active', L.active ? 'yes' : 'no (split or merged away)'],
        ['Graph', prov.upstream.length + ' ancestors · ' + prov.downstream.length + ' descendants'],
      ])),
      section('Provenance graph (ancestors ← lot → descendants)', h('div', { class: 'graphwrap' }, svg),
        h('p', { class: 'small muted' }, 'Each box is a lot with its custody hops (block height: from → to) and inspections. Arrows run from parent to child lots (split or merge). Red: recalled. Click a lot to re-centre.')),
      section('Custody of ' + L.id, table(['#', 'From', 'To', 'Block', 'Time'], custRows, { id: 'custody' })),
      inspRows.length ? section('Inspections', table(['Lot', 'Inspector', 'Result', 'Notes', 'Time'], inspRows)) : null,
    ];
  }

  function trunc(t, n) { t = String(t); return t.length > n ? t.slice(0, n - 1) + '…' : t; }

  function drawProvenance(addr, prov, name) {
    const focus = prov.lot.lot.id;
    const byId = new Map();
    for (const x of [prov.lot, ...prov.upstream, ...prov.downstream]) byId.set(x.lot.id, x);
    const up = new Set(prov.upstream.map((x) => x.lot.id)), down = new Set(prov.downstream.map((x) => x.lot.id));
    const layer = new Map([[focus, 0]]);
    // Ancestors: layer = min(child layer) − 1; descendants: layer = max(parent layer) + 1.
    for (let it = 0; it < byId.size + 1; it++) {
      let changed = false;
      for (const id of up) {
        const kids = byId.get(id).lot.children.filter((k) => layer.has(k) && (k === focus || up.has(k)));
        if (!kids.length) continue;
        const l = Math.min(...kids.map((k) => layer.get(k))) - 1;
        if (layer.get(id) !== l) { layer.set(id, l); changed = true; }
      }
      for (const id of down) {
        const ps = byId.get(id).lot.parents.filter((p) => layer.has(p) && (p === focus || down.has(p)));
        if (!ps.length) continue;
        const l = Math.max(...ps.map((p) => layer.get(p))) + 1;
        if (layer.get(id) !== l) { layer.set(id, l); changed = true; }
      }
      if (!changed) break;
    }
    for (const id of byId.keys()) if (!layer.has(id)) layer.set(id, up.has(id) ? -1 : 1);
    const layers = [...new Set(layer.values())].sort((a, b) => a - b);
    const cols = layers.map((l) => [...byId.keys()].filter((id) => layer.get(id) === l));
    // Order within a column: by the mean position of already-placed neighbours (one sweep each way).
    const NW = 240, GAP = 74, PAD = 16, LH = 14;
    const nodeH = (x) => 62 + Math.max(1, x.custody.length) * LH + (x.inspections.length ? 4 + x.inspections.length * LH : 0) + (x.lot.recall ? LH : 0);
    const pos = new Map();
    function place() {
      cols.forEach((col, ci) => {
        let y = PAD + 20;
        for (const id of col) { const x = byId.get(id); const hh = nodeH(x); pos.set(id, { x: PAD + ci * (NW + GAP), y, h: hh }); y += hh + 22; }
      });
    }
    place();
    for (let pass = 0; pass < 2; pass++) {
      cols.forEach((col, ci) => {
        if (ci === 0) return;
        const key = (id) => { const ps = byId.get(id).lot.parents.filter((p) => pos.has(p)); return ps.length ? ps.reduce((a, p) => a + pos.get(p).y, 0) / ps.length : 0; };
        col.sort((a, b) => key(a) - key(b));
      });
      place();
    }
    const maxH = Math.max(...cols.map((col) => col.reduce((a, id) => a + pos.get(id).h + 22, 0)));
    // centre columns vertically
    cols.forEach((col) => {
      const colH = col.reduce((a, id) => a + pos.get(id).h + 22, 0);
      const off = (maxH - colH) / 2;
      for (const id of col) pos.get(id).y += off;
    });
    const W = PAD * 2 + cols.length * NW + (cols.length - 1) * GAP, H = maxH + PAD * 2 + 20;
    const svg = s('svg', { id: 'provenance', viewBox: `0 0 ${W} ${H}`, width: '100%', 'font-family': 'system-ui, sans-serif', 'data-lots': byId.size });
    // Fit the panel when it can without shrinking text below 90 %; scroll beyond that.
    svg.style.maxWidth = W + 'px';
    svg.style.minWidth = Math.round(W * 0.9) + 'px';
    svg.appendChild(s('defs', null,
      s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#6b7280' })),
      s('marker', { id: 'arrowr', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#dc2626' }))));
    // column headers
    layers.forEach((l, ci) => svg.appendChild(s('text', { x: PAD + ci * (NW + GAP) + NW / 2, y: PAD + 4, 'text-anchor': 'middle', 'font-size': 11, fill: '#6b7280' },
      l < 0 ? (l === -1 ? 'parents' : 'ancestors (' + (-l) + ' up)') : l === 0 ? 'this lot' : (l === 1 ? 'children' : 'descendants (' + l + ' down)'))));
    // edges
    for (const [id, x] of byId) {
      for (const child of x.lot.children) {
        if (!byId.has(child)) continue;
        const a = pos.get(id), b = pos.get(child);
        const x1 = a.x + NW, y1 = a.y + 22, x2 = b.x, y2 = b.y + 22;
        const red = !!byId.get(child).lot.recall;
        const mx = (x1 + x2) / 2;
        const g = s('g', { 'data-edge': id + '>' + child });
        g.appendChild(s('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, fill: 'none', stroke: red ? '#dc2626' : '#9ca3af', 'stroke-width': 1.5, 'marker-end': red ? 'url(#arrowr)' : 'url(#arrow)' }));
        svg.appendChild(g);
      }
      // One label per split (at the parent) and per merge (at the merged lot).
      const kids = x.lot.children.filter((c) => byId.has(c));
      const splitKids = kids.filter((c) => byId.get(c).lot.parents.length <= 1);
      if (splitKids.length) {
        const a = pos.get(id);
        svg.appendChild(s('text', { x: a.x + NW + 6, y: a.y + 16, 'font-size': 10, fill: '#6b7280' }, splitKids.length > 1 ? 'split ×' + splitKids.length : 'split'));
      }
      if (x.lot.parents.length > 1 && x.lot.parents.some((p) => byId.has(p))) {
        const b = pos.get(id);
        svg.appendChild(s('text', { x: b.x - 6, y: b.y + 14, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7280' }, 'merge of ' + x.lot.parents.length));
      }
    }
    // nodes
    for (const [id, x] of byId) {
      const p = pos.get(id), L = x.lot;
      const isFocus = id === focus;
      const recalled = !!L.recall;
      const failed = x.inspections.some((i) => !i.passed);
      const g = s('g', { 'data-lot': id, class: 'lotnode', transform: `translate(${p.x},${p.y})` });
      const a = s('a', { href: '#/trace/' + addr + '/' + encodeURIComponent(id) });
      a.appendChild(s('rect', { width: NW, height: p.h, rx: 6, fill: recalled ? '#fef2f2' : failed ? '#fffbeb' : isFocus ? '#eff6ff' : '#ffffff', stroke: recalled ? '#dc2626' : isFocus ? '#2563eb' : failed ? '#d97706' : '#d1d5db', 'stroke-width': recalled || isFocus || failed ? 2 : 1 }));
      if (recalled) g.setAttribute('data-recalled', '1');
      if (failed) g.setAttribute('data-failed-inspection', '1');
      a.appendChild(s('text', { x: 10, y: 18, 'font-size': 13, 'font-weight': 700, fill: '#111827' }, trunc(id, 24)));
      if (recalled) a.appendChild(s('text', { x: NW - 10, y: 18, 'text-anchor': 'end', 'font-size': 11, 'font-weight': 700, fill: '#dc2626' }, 'RECALLED'));
      else if (!L.active) a.appendChild(s('text', { x: NW - 10, y: 18, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7280' }, 'inactive'));
      else if (failed) a.appendChild(s('text', { x: NW - 10, y: 18, 'text-anchor': 'end', 'font-size': 10, 'font-weight': 700, fill: '#b45309' }, 'FAILED INSPECTION'));
      a.appendChild(s('text', { x: 10, y: 34, 'font-size': 11, fill: '#374151' }, trunc(L.product, 24) + ' · ' + num(L.quantity) + ' ' + L.unit));
      a.appendChild(s('text', { x: 10, y: 49, 'font-size': 11, fill: '#374151' }, 'holder: ' + trunc(name(L.owner), 26)));
      g.appendChild(a);
      let y = 64;
      if (!x.custody.length) { g.appendChild(s('text', { x: 10, y, 'font-size': 10, fill: '#9ca3af' }, 'no handovers')); y += LH; }
      x.custody.forEach((c, i) => {
        const hop = s('g', { 'data-hop': i, 'data-from': c.from, 'data-to': c.to, 'data-height': c.height });
        hop.appendChild(s('title', null, `hop ${i + 1}: ${name(c.from)} → ${name(c.to)} at block ${c.height} (${localTime(c.at_ms)})`));
        hop.appendChild(s('text', { x: 10, y, 'font-size': 10, fill: '#6b7280' }, '#' + c.height));
        hop.appendChild(s('text', { x: 58, y, 'font-size': 10.5, fill: '#1f2937' }, trunc(name(c.from), 14) + ' → ' + trunc(name(c.to), 14)));
        g.appendChild(hop);
        y += LH;
      });
      if (x.inspections.length) {
        y += 4;
        x.inspections.forEach((ins) => {
          const ig = s('g', { 'data-inspection': ins.passed ? 'pass' : 'fail' });
          ig.appendChild(s('title', null, `${name(ins.inspector)}: ${ins.passed ? 'passed' : 'failed'} — ${ins.notes}`));
          ig.appendChild(s('text', { x: 10, y, 'font-size': 10.5, 'font-weight': 700, fill: ins.passed ? '#15803d' : '#dc2626' }, (ins.passed ? '✓ pass ' : '✗ fail ') + trunc(ins.notes || name(ins.inspector), 28)));
          g.appendChild(ig);
          y += LH;
        });
      }
      if (recalled) g.appendChild(s('text', { x: 10, y: y + 2, 'font-size': 10.5, fill: '#dc2626' }, trunc('recall: ' + L.recall.reason, 38)));
      svg.appendChild(g);
    }
    return svg;
  }

  // ---- notary / document check
  async function documentPage(ctx, addr) {
    const m = await loadContracts();
    const notaries = [...m.values()].filter((c) => c.kind === 'notary');
    if (!notaries.length) return [h('h1', null, 'Document check'), h('p', null, 'No notary contract is deployed.')];
    let current = addr && notaries.some((c) => c.address === addr) ? addr : notaries[0].address;
    if (addr && !notaries.some((c) => c.address === addr)) await requireKind(addr, 'notary');
    const sel = h('select', { name: 'notary', id: 'notary-select' }, notaries.map((c) => h('option', { value: c.address, selected: c.address === current }, 'Notary ' + short(c.address, 6) + ' (deployed at ' + c.deployed_at + ')')));
    sel.addEventListener('change', () => { location.hash = '#/document/' + sel.value; });
    const input = h('input', { type: 'file', id: 'document-file', name: 'document' });
    const hashOut = h('div', { id: 'document-hash', class: 'mono' });
    const verdictBox = h('div', { id: 'verdict-box' });
    let lastHash = null, lastName = null;
    const drop = h('label', { class: 'drop', id: 'drop', for: 'document-file' },
      h('div', { class: 'dropbig' }, 'Drop a document here, or click to choose a file'),
      h('div', { class: 'small muted' }, 'The file is hashed (SHA3-256) in your browser. Nothing is uploaded: only the hash is sent to this node, in a read-only query.'),
      input);
    async function handle(file) {
      if (!file) return;
      const main = page();
      main.removeAttribute('data-ready');
      clear(verdictBox); clearError();
      hashOut.textContent = 'Hashing ' + file.name + '…';
      try {
        const buf = await file.arrayBuffer();
        const hash = '0x' + window.sha3_256(new Uint8Array(buf));
        lastHash = hash; lastName = file.name;
        await verify(hash, file.name, file.size);
      } catch (e) { showError(e); }
      if (ctx.alive()) main.setAttribute('data-ready', '1');
    }
    async function verify(hash, fname, size) {
      clear(hashOut).append(h('div', { class: 'small muted' }, (fname || 'document') + (size != null ? ' · ' + num(size) + ' bytes' : '') + ' · SHA3-256'), h('div', { class: 'hashv', 'data-hash': hash }, hash));
      const r = await query(current, 'verify', { hash });
      const d = r.document;
      const verdict = r.verdict === 'valid' ? 'anchored' : r.verdict;
      let notaryName = null, revHeight = null, supHeight = null;
      if (d) {
        try { notaryName = await query(current, 'notary', { notary: d.notary }); } catch (e) { /* removed notary */ }
        if (d.status && d.status.status !== 'valid') {
          const topic = d.status.status === 'revoked' ? 'revoked' : 'superseded';
          const evs = await allEvents({ contract: current, topic, from_height: d.anchored_at_height }, 10);
          const ev = evs.find((e) => (topic === 'revoked' ? e.data && e.data.hash === hash : Array.isArray(e.data) && e.data[0] === hash));
          if (ev) { if (topic === 'revoked') revHeight = ev.height; else supHeight = ev.height; }
        }
      }
      const title = { anchored: 'Anchored: this document is on record and valid', revoked: 'Revoked: this document was anchored, then revoked', superseded: 'Superseded: this document was anchored, then replaced by a newer version', unknown: 'Unknown: this hash was never anchored with this notary contract' }[verdict] || verdict;
      const rows = d ? [
        ['Notary contract', contractLink(current)],
        ['Anchored by', h('span', null, notaryName ? h('b', null, notaryName + ' ') : null, accountLink(d.notary))],
        ['Document type', d.doc_type, 'doc_type'],
        ['Issuer', d.issuer, 'issuer'],
        ['Anchored at', h('span', null, 'block ', blockLink(d.anchored_at_height), ' · ', timeEl(d.anchored_at_ms)), 'anchored_at_height'],
        d.status.status === 'revoked' ? ['Revoked', h('span', null, '“' + d.status.reason + '” · ', revHeight != null ? ['block ', blockLink(revHeight), ' · '] : null, timeEl(d.status.at_ms)), 'revocation'] : null,
        d.status.status === 'superseded' ? ['Superseded by', h('span', null, h('span', { class: 'mono' }, d.status.by), ' · ', supHeight != null ? ['block ', blockLink(supHeight), ' · '] : null, timeEl(d.status.at_ms)), 'superseded_by'] : null,
        d.supersedes ? ['Supersedes', h('span', { class: 'mono' }, d.supersedes), 'supersedes'] : null,
      ] : [['Notary contract', contractLink(current)], ['Looked up at block', num(state.head ? state.head.height : null)]];
      clear(verdictBox).appendChild(h('div', { id: 'verdict', class: 'verdict v-' + verdict, 'data-verdict': verdict, 'data-hash': hash },
        h('div', { class: 'vtitle' }, title), kv(rows)));
    }
    input.addEventListener('change', () => handle(input.files && input.files[0]));
    const evs = (await allEvents({ contract: current }, 5)).filter((e) => ['anchored', 'revoked', 'superseded'].includes(e.topic)).slice(-50).reverse();
    const names = new Map();
    const nres = await rpcBatch([...new Set(evs.filter((e) => e.data && e.data.notary).map((e) => e.data.notary))].map((a) => ['vellum_query', [current, 'notary', { notary: a }]]));
    [...new Set(evs.filter((e) => e.data && e.data.notary).map((e) => e.data.notary))].forEach((a, i) => { if (nres[i].result && nres[i].result.output) names.set(a, nres[i].result.output); });
    const recentTable = table(['Block', 'Event', 'Document hash', 'Type', 'Issuer', 'Notary', 'Tx'], evs.map((e) => {
      const d = Array.isArray(e.data) ? { hash: e.data[0] } : e.data;
      return h('tr', { 'data-doc-event': e.topic }, h('td', null, blockLink(e.height)),
        h('td', null, badge(e.topic === 'anchored' ? 'success' : e.topic === 'revoked' ? 'failed' : 'pending', e.topic)),
        h('td', null, hashText(d.hash, 8), Array.isArray(e.data) ? h('span', { class: 'small muted' }, ' → ', hashText(e.data[1], 6)) : null),
        h('td', null, d.doc_type || '–'), h('td', null, d.issuer || '–'),
        h('td', null, d.notary ? h('span', null, names.get(d.notary) ? names.get(d.notary) + ' ' : '', accountLink(d.notary)) : '–'),
        h('td', null, txLink(e.transaction, 4)));
    }), { id: 'notary-activity' });
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); handle(e.dataTransfer.files && e.dataTransfer.files[0]); });
    return [
      crumbs(link('#/apps', 'Use cases'), 'Document check'),
      h('h1', null, 'Document check'),
      h('p', { class: 'muted' }, 'Verify a document against the notary contract. The hash is computed locally with SHA3-256 (FIPS 202, the same as ', h('code', null, 'vellum verify'), ' and ', h('code', null, 'openssl dgst -sha3-256'), '); the document never leaves your computer.'),
      notaries.length > 1 ? h('label', { class: 'block' }, 'Notary contract ', sel) : h('p', { class: 'small' }, 'Notary contract: ', contractLink(current)),
      drop, hashOut, verdictBox,
      section('Recent notary activity', h('p', { class: 'small muted' }, 'The newest 50 anchorings, revocations and supersessions recorded by this contract’s events.'), recentTable),
    ];
  }

  // ---- ballot
  async function meetingsPage(ctx, addr) {
    await requireKind(addr, 'ballot');
    const evs = await allEvents({ contract: addr, topic: 'meeting_created' });
    const cur = await rpcBatch(evs.map((e) => ['vellum_query', [addr, 'meeting', { id: e.data.id }]]));
    const rows = evs.map((e, i) => {
      const m = (cur[i].result && cur[i].result.output) || e.data;
      return h('tr', { 'data-meeting': m.id }, h('td', null, link('#/meeting/' + addr + '/' + encodeURIComponent(m.id), m.id)), h('td', null, m.title),
        h('td', { class: 'num' }, m.items.length), h('td', { class: 'num' }, num(m.total_shares)), h('td', null, m.secret ? 'secret' : 'public'),
        h('td', { class: 'num' }, (m.quorum_bps / 100) + ' %'), h('td', null, badge(m.status)), h('td', null, blockLink(e.height)));
    });
    return [crumbs(link('#/apps', 'Use cases'), 'Ballot ' + short(addr, 4)), h('h1', null, 'Meetings ', h('span', { class: 'small muted' }, contractLink(addr))),
      table(['Meeting', 'Title', 'Items', 'Shares', 'Voting', 'Quorum', 'Status', 'Created at'], rows, { id: 'meetings' })];
  }

  async function meetingPage(ctx, addr, id) {
    await requireKind(addr, 'ballot');
    const m = await query(addr, 'meeting', { id });
    let tally = null, tallyErr = null;
    try { tally = await query(addr, 'tally', { meeting: id }); } catch (e) { tallyErr = e; }
    const votes = (await allEvents({ contract: addr })).filter((e) => Array.isArray(e.data) && e.data[0] === id && /^vote_/.test(e.topic));
    // Running counts from events when the tally is not available yet.
    const counts = m.items.map(() => ({ for: 0, against: 0, abstain: 0, committed: 0 }));
    for (const e of votes) {
      if (e.topic === 'vote_cast' || e.topic === 'vote_revealed') counts[e.data[1]][e.data[3]] += Number(e.data[4]);
      if (e.topic === 'vote_committed') counts[e.data[1]].committed += 1;
    }
    const total = Number(m.total_shares) || 1;
    const rows = m.items.map((title, i) => {
      const t = tally ? tally.find((x) => x.item === i) || tally[i] : null;
      const f = t ? Number(t.for_shares) : counts[i].for, a = t ? Number(t.against_shares) : counts[i].against, ab = t ? Number(t.abstain_shares) : counts[i].abstain;
      const bar = h('div', { class: 'vbar', title: `for ${f} · against ${a} · abstain ${ab} · of ${total} shares` });
      for (const [v, c] of [[f, 'for'], [a, 'against'], [ab, 'abstain']]) { const seg = h('span', { class: 'seg ' + c }); seg.style.width = (100 * v / total).toFixed(2) + '%'; bar.appendChild(seg); }
      const q = h('span', { class: 'qmark' }); q.style.left = (m.quorum_bps / 100) + '%'; bar.appendChild(q);
      return h('tr', { 'data-item': i }, h('td', { class: 'num' }, i + 1), h('td', null, title),
        h('td', { class: 'num', 'data-field': 'for' }, num(f)), h('td', { class: 'num', 'data-field': 'against' }, num(a)), h('td', { class: 'num', 'data-field': 'abstain' }, num(ab)),
        h('td', null, bar),
        h('td', null, t ? [t.quorum_reached ? badge('success', 'quorum') : badge('failed', 'no quorum'), ' ', t.passed ? badge('success', 'passed') : badge('failed', 'not passed')] : h('span', { class: 'muted small' }, m.secret ? counts[i].committed + ' committed' : 'running')));
    });
    const vrows = votes.map((e) => h('tr', null, h('td', null, blockLink(e.height)), h('td', null, e.topic.replace('vote_', '')), h('td', { class: 'num' }, e.data[1] + 1), h('td', null, accountLink(e.data[2])),
      h('td', null, e.data[3] ? badge(e.data[3] === 'for' ? 'success' : e.data[3] === 'against' ? 'failed' : 'unknown', e.data[3]) : h('span', { class: 'muted' }, 'sealed')), h('td', { class: 'num' }, e.data[4] != null ? num(e.data[4]) : '–'), h('td', null, txLink(e.transaction, 4))));
    return [
      crumbs(link('#/apps', 'Use cases'), link('#/meeting/' + addr, 'Ballot ' + short(addr, 4)), id),
      h('h1', null, m.title, ' ', badge(m.status)),
      section(null, kv([['Meeting id', m.id, 'id'], ['Organiser', accountLink(m.organiser)], ['Voting', m.secret ? 'secret (commit, then reveal)' : 'public'], ['Registered shares', num(m.total_shares)], ['Quorum', (m.quorum_bps / 100) + ' % of shares'], ['Status', badge(m.status), 'status']])),
      section(tally ? 'Tally' : 'Tally (not final)', tallyErr ? h('p', { class: 'note small' }, 'The final tally is available once the meeting is closed (' + tallyErr.message + (tallyErr.data && tallyErr.data.error ? ': ' + tallyErr.data.error.message : '') + '). Counts below come from the vote events so far.') : null,
        table(['#', 'Item', 'For', 'Against', 'Abstain', 'Shares (quorum mark)', 'Result'], rows, { id: 'tally' }),
        h('p', { class: 'small muted legend' }, h('span', { class: 'sw for' }), ' for ', h('span', { class: 'sw against' }), ' against ', h('span', { class: 'sw abstain' }), ' abstain · bar width is share of all registered shares')),
      section('Votes (' + votes.length + ')', table(['Block', 'Event', 'Item', 'Voter', 'Choice', 'Shares', 'Tx'], vrows, { id: 'votes' })),
    ];
  }

  // ---- points
  async function pointsIndexPage(ctx, addr) {
    await requireKind(addr, 'points');
    const evs = await allEvents({ contract: addr });
    const issuers = evs.filter((e) => e.topic === 'issuer_registered').map((e) => Object.assign({ height: e.height }, e.data));
    const cur = await rpcBatch(issuers.map((i) => ['vellum_query', [addr, 'issuer', { id: i.id }]]));
    const rates = new Map();
    for (const e of evs) if (e.topic === 'rate_agreed') rates.set(e.data[0] + '>' + e.data[1], { from: e.data[0], to: e.data[1], rate: e.data[2], height: e.height });
    const members = new Map();
    const touch = (a, h0) => { if (a && !state.contracts.has(a)) members.set(a, Math.max(members.get(a) || 0, h0)); };
    for (const e of evs) {
      if (e.topic === 'minted') touch(e.data[1], e.height);
      if (e.topic === 'transferred') { touch(e.data[1], e.height); touch(e.data[2], e.height); }
      if (e.topic === 'redeemed') touch(e.data[1], e.height);
      if (e.topic === 'swapped') touch(e.data[0], e.height);
      if (e.topic === 'approved') touch(e.data[1], e.height);
    }
    const irows = issuers.map((i, k) => {
      const c = (cur[k].result && cur[k].result.output) || i;
      return h('tr', { 'data-issuer': i.id }, h('td', null, h('b', null, c.name)), h('td', { class: 'mono' }, i.id), h('td', null, accountLink(c.admin)), h('td', { class: 'num' }, num(c.supply)), h('td', null, blockLink(i.height)));
    });
    const rrows = [...rates.values()].map((r) => h('tr', { 'data-rate': r.from + '>' + r.to }, h('td', null, r.from), h('td', null, r.to),
      h('td', { class: 'num' }, num(r.rate.numerator) + ' : ' + num(r.rate.denominator)), h('td', null, r.rate.agreed_by_from && r.rate.agreed_by_to ? badge('success', 'active') : badge('pending', 'awaiting ' + (r.rate.agreed_by_from ? 'to' : 'from'))), h('td', null, blockLink(r.height))));
    const mrows = [...members.entries()].sort((a, b) => b[1] - a[1]).map(([a, hh]) => h('tr', { 'data-member': a }, h('td', null, link('#/points/' + addr + '/' + a, short(a, 8), a, 'mono')), h('td', null, blockLink(hh))));
    return [crumbs(link('#/apps', 'Use cases'), 'Points ' + short(addr, 4)), h('h1', null, 'Loyalty points ', h('span', { class: 'small muted' }, contractLink(addr))),
      section('Issuers', table(['Name', 'Id', 'Admin', 'Supply', 'Registered at'], irows, { id: 'issuers' })),
      section('Conversion rates (latest agreement per pair; 1 point of from → numerator/denominator of to)', table(['From', 'To', 'Rate', 'State', 'Agreed at'], rrows, { id: 'rates' })),
      section('Members seen in events', table(['Member', 'Last activity'], mrows, { id: 'members' }))];
  }

  async function pointsMemberPage(ctx, addr, member) {
    await requireKind(addr, 'points');
    const evs = await allEvents({ contract: addr });
    const issuers = evs.filter((e) => e.topic === 'issuer_registered').map((e) => e.data);
    const [bal, hist] = await Promise.all([
      rpcBatch(issuers.map((i) => ['vellum_query', [addr, 'balance', { issuer: i.id, member }]])),
      rpcBatch([['vellum_query', [addr, 'history', { member, before: null, limit: 100 }]]]),
    ]);
    const brows = issuers.map((i, k) => h('tr', { 'data-issuer': i.id }, h('td', null, h('b', null, i.name)), h('td', { class: 'mono' }, i.id),
      h('td', { class: 'num', 'data-field': 'balance' }, bal[k].result ? num(bal[k].result.output) : h('span', { class: 'errmsg' }, bal[k].error.message))));
    const swaps = evs.filter((e) => e.topic === 'swapped' && e.data[0] === member);
    const srows = swaps.map((e) => h('tr', { 'data-swap': e.transaction }, h('td', null, blockLink(e.height)), h('td', null, e.data[1]), h('td', { class: 'num' }, num(e.data[2])), h('td', null, '→'), h('td', null, e.data[3]), h('td', { class: 'num' }, num(e.data[4])), h('td', null, txLink(e.transaction, 4))));
    const moves = hist[0].result ? hist[0].result.output : [];
    const mrows = moves.map(([seq, mv]) => h('tr', null, h('td', { class: 'num' }, seq), h('td', null, blockLink(mv.height)), h('td', null, timeEl(mv.time_ms)), h('td', null, mv.kind.replace('_', ' ')), h('td', null, mv.issuer), h('td', { class: 'num' }, num(mv.amount)), h('td', null, mv.counterparty ? anyAddrLink(mv.counterparty) : '–')));
    if (hist[0].error) showError(hist[0].error, 'history');
    return [crumbs(link('#/apps', 'Use cases'), link('#/points/' + addr, 'Points ' + short(addr, 4)), short(member, 6)),
      h('h1', null, 'Points of ', h('span', { class: 'mono small' }, member)),
      h('p', null, link('#/account/' + member, 'Account page →')),
      section('Balances', table(['Issuer', 'Id', 'Balance'], brows, { id: 'balances' })),
      section('Swaps', table(['Block', 'From issuer', 'Amount', '', 'To issuer', 'Received', 'Tx'], srows, { id: 'swaps' })),
      section('Movements (history query, newest first)', table(['Seq', 'Block', 'Time', 'Kind', 'Issuer', 'Amount', 'Counterparty'], mrows, { id: 'movements' }))];
  }

  // ---- escrow
  async function escrowPage(ctx, addr) {
    await requireKind(addr, 'escrow');
    const evs = await allEvents({ contract: addr, topic: 'opened' });
    const cur = await rpcBatch(evs.map((e) => ['vellum_query', [addr, 'deal', { id: e.data.id }]]));
    const rows = evs.map((e, i) => {
      const d = (cur[i].result && cur[i].result.output) || e.data;
      return h('tr', { 'data-deal': d.id }, h('td', { class: 'num' }, d.id), h('td', null, accountLink(d.buyer)), h('td', null, accountLink(d.seller)), h('td', null, d.issuer), h('td', { class: 'num' }, num(d.amount)), h('td', null, timeEl(d.deadline_ms)), h('td', null, badge(d.state)), h('td', null, blockLink(e.height)));
    });
    return [crumbs(link('#/apps', 'Use cases'), 'Escrow ' + short(addr, 4)), h('h1', null, 'Escrow deals ', h('span', { class: 'small muted' }, contractLink(addr))),
      table(['Deal', 'Buyer', 'Seller', 'Issuer', 'Amount', 'Deadline', 'State', 'Opened at'], rows, { id: 'deals' })];
  }

  // ---------------------------------------------------------------- routes
  const HEX64 = '(0x[0-9a-fA-F]{64})';
  route(/^\/?$/, 'overview', overviewPage);
  route(/^\/blocks(\/txs)?(?:\/(\d+))?\/?$/, 'blocks', blocksPage);
  route(/^\/block\/([^/]+)\/?$/, 'block', blockPage);
  route(new RegExp('^/tx/' + HEX64 + '/?$'), 'transaction', txPage);
  route(/^\/contracts\/?$/, 'contracts', contractsPage);
  route(new RegExp('^/contract/' + HEX64 + '/?$'), 'contract', contractPage);
  route(new RegExp('^/account/' + HEX64 + '(?:/(.+))?$'), 'account', accountPage);
  route(/^\/apps\/?$/, 'apps', appsPage);
  route(new RegExp('^/trace/' + HEX64 + '/?$'), 'lots', lotsPage);
  route(new RegExp('^/trace/' + HEX64 + '/(.+)$'), 'trace', tracePage);
  route(/^\/document\/?$/, 'document', documentPage);
  route(new RegExp('^/document/' + HEX64 + '/?$'), 'document', documentPage);
  route(new RegExp('^/meeting/' + HEX64 + '/?$'), 'meetings', meetingsPage);
  route(new RegExp('^/meeting/' + HEX64 + '/(.+)$'), 'meeting', meetingPage);
  route(new RegExp('^/points/' + HEX64 + '/?$'), 'issuers', pointsIndexPage);
  route(new RegExp('^/points/' + HEX64 + '/' + HEX64 + '$'), 'points', pointsMemberPage);
  route(new RegExp('^/escrow/' + HEX64 + '/?$'), 'escrow', escrowPage);
  route(/^\/search\/(.*)$/, 'search', searchPage);

  // ---------------------------------------------------------------- boot
  async function boot() {
    document.getElementById('search').addEventListener('submit', (e) => {
      e.preventDefault();
      const q = e.target.elements.q.value.trim();
      if (!q) return;
      const target = '#/search/' + encodeURIComponent(q);
      if (location.hash === target) render(); else location.hash = target;
    });
    window.addEventListener('hashchange', render);
    try {
      const st = await rpc('vellum_status');
      state.status = st;
      state.chainId = st.chain_id;
      document.getElementById('chain-id').textContent = st.chain_id;
      document.getElementById('head-height').textContent = num(st.height);
      for (const v of st.validators) state.validators.set(v.public_key, v);
      live.start(st.height + 1);
    } catch (e) {
      showError(e, 'vellum_status');
      live.start();
    }
    render();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})();
