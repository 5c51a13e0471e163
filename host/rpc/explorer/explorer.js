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
          if (big) { out += text.slice(last, i) + '"' + lit + '"'; last = j; rememberBig(lit); }
        }
        i = j;
        continue;
      }
      i++;
    }
    return out + text.slice(last);
  }

  // Literals quoteBigInts turned into strings: jsonBlock shows them as numbers again.
  const bigLits = new Set();
  function rememberBig(lit) { if (bigLits.size > 20000) bigLits.clear(); bigLits.add(lit); }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const BUSY = -32020;
  async function rpc(method, params) {
    for (let attempt = 0; ; attempt++) {
      const r = await post({ jsonrpc: '2.0', id: ++rpcId, method, params: params || [] });
      if (r.error) {
        // The node runs one contract query at a time and answers -32020 when it is busy.
        if (r.error.code === BUSY && attempt < 4) { await sleep(150 + 250 * attempt + Math.random() * 150); continue; }
        throw new RpcError(method, r.error);
      }
      return r.result;
    }
  }
  // Thrown by fan-out helpers when the page they work for is gone.
  class Stale extends Error { constructor() { super('stale'); this.stale = true; } }

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

  // Many contract queries: small batches one after another (the node runs one query at a
  // time), items answered -32020 retried a few times, stopping when the page is left.
  // Returns [{result}|{error}] in order, like rpcBatch.
  async function queryMany(ctx, calls, batch) {
    const out = new Array(calls.length);
    const size = batch || 8;
    for (let i = 0; i < calls.length; i += size) {
      if (ctx && !ctx.alive()) throw new Stale();
      let idx = [];
      for (let j = i; j < Math.min(calls.length, i + size); j++) idx.push(j);
      for (let attempt = 0; idx.length; attempt++) {
        const res = await rpcBatch(idx.map((j) => calls[j]));
        const again = [];
        res.forEach((r, k) => {
          if (r.error && r.error.code === BUSY && attempt < 4) again.push(idx[k]);
          else out[idx[k]] = r;
        });
        idx = again;
        if (idx.length) {
          if (ctx && !ctx.alive()) throw new Stale();
          await sleep(150 + 250 * attempt + Math.random() * 150);
        }
      }
    }
    return out;
  }

  // Oldest-first pages of vellum_getEvents for a filter, at most `max` events. Returns the
  // events with `truncated` set when more remain.
  async function allEvents(filter, maxPages, ctx) {
    const out = [];
    let cursor = null;
    out.truncated = false;
    const pages = maxPages || 20;
    for (let i = 0; i < pages; i++) {
      if (ctx && !ctx.alive()) throw new Stale();
      const f = Object.assign({ limit: 1000 }, filter);
      if (cursor) f.cursor = cursor;
      const r = await rpc('vellum_getEvents', [f]);
      for (const e of r.events) out.push(e);
      if (!r.next_cursor) break;
      cursor = r.next_cursor;
      if (i === pages - 1) out.truncated = true;
    }
    return out;
  }

  // The newest `n` events of a filter (getEvents is oldest first): windows of heights walked
  // back from the head. Returned oldest first; `truncated` when older events were not read.
  async function newestEvents(filter, n, ctx, keep) {
    let top = state.head ? state.head.height : null;
    if (top == null) { const st = await rpc('vellum_status'); top = st.height; }
    const got = [];
    let span = 2000, requests = 0, partial = false;
    const ok = keep || (() => true);
    // Each window is read whole (at most 5 pages); a window with more is narrowed and read
    // again, so what is kept is always the newest. At most 40 requests in all.
    while (top >= 0 && got.length < n && requests < 40) {
      if (ctx && !ctx.alive()) throw new Stale();
      const from = Math.max(0, top - span + 1);
      const win = [];
      let cursor = null, more = false;
      for (let i = 0; i < 5; i++) {
        const f = Object.assign({ limit: 1000 }, filter, { from_height: from, to_height: top });
        if (cursor) f.cursor = cursor;
        const r = await rpc('vellum_getEvents', [f]);
        requests++;
        for (const e of r.events) if (ok(e)) win.push(e);
        if (!r.next_cursor) { more = false; break; }
        more = true;
        cursor = r.next_cursor;
      }
      if (more && span > 1) { span = Math.max(1, Math.floor(span / 8)); continue; }
      if (more) partial = true; // one block with more events than 5 pages: its first ones only
      for (let i = win.length - 1; i >= 0 && got.length < n; i--) got.push(win[i]);
      top = from - 1;
      if (win.length < n / 4) span = Math.min(span * 4, 1000000);
    }
    got.reverse();
    got.truncated = top >= 0 || partial;
    return got;
  }
  function capNote(shown, total, truncated, what) {
    if (!truncated && shown >= total) return null;
    return h('p', { class: 'note small capnote' }, 'Showing ' + what + ' ' + num(shown) + (total > shown ? ' of ' + num(total) + (truncated ? '+' : '') : '') + '; truncated.');
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
        else el.setAttribute(k, v === true ? '' : k === 'title' || k === 'aria-label' ? nobidi(String(v)) : String(v));
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
      else el.appendChild(document.createTextNode(nobidi(String(k))));
    }
    return el;
  }
  // Chain strings may carry bidi controls that reorder what is shown (an address or amount
  // turned around): every text node and title drops them.
  const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F]/g;
  function nobidi(t) { return t.replace(BIDI, ''); }
  // A chain value shown as text: strings as they are, anything else as compact JSON.
  function str(v, n) {
    if (v == null) return '–';
    const t = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : safeJson(v, n || 200);
    return n ? trunc(t, n) : t;
  }
  const s = (tag, attrs, ...kids) => h('svg:' + tag, attrs, ...kids);
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  // ---------------------------------------------------------------- formatting
  const nf = new Intl.NumberFormat('en-US');
  function num(n) {
    if (n == null) return '–';
    if (typeof n === 'number' || typeof n === 'bigint') return nf.format(n);
    if (typeof n === 'string' && /^-?\d{1,80}$/.test(n)) { try { return nf.format(BigInt(n)); } catch (e) { return n; } }
    return str(n, 80);
  }
  function short(hex, n) {
    if (!hex || typeof hex !== 'string') return String(hex);
    n = n || 6;
    return hex.length > 2 * n + 4 ? hex.slice(0, n + 2) + '…' + hex.slice(-n) : hex;
  }
  const MAX_T = 8.64e15;
  const okTime = (t) => typeof t === 'number' && Number.isFinite(t) && Math.abs(t) <= MAX_T;
  function ago(ms) {
    if (!okTime(ms)) return String(ms);
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
    if (!okTime(ms)) return String(ms);
    const d = new Date(ms);
    const p = (x, n) => String(x).padStart(n || 2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.' + p(d.getMilliseconds(), 3);
  }
  function timeEl(ms) {
    if (ms == null) return '–';
    if (!okTime(ms)) return h('span', { class: 'time mono', title: 'not a time in range' }, str(ms, 40));
    return h('span', { class: 'time', title: new Date(ms).toISOString(), 'data-ago': ms }, localTime(ms), h('span', { class: 'ago' }, ' (' + ago(ms) + ')'));
  }
  function agoEl(ms) {
    if (!okTime(ms)) return h('span', { class: 'agoonly mono' }, str(ms, 40));
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
  // Links are built from chain data only when it is what the route expects (hex, integers);
  // anything else is shown as plain text.
  const isHex64 = (x) => typeof x === 'string' && /^0x[0-9a-fA-F]{64}$/.test(x);
  const isHeight = (x) => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) || (typeof x === 'string' && /^\d{1,16}$/.test(x));
  const plain = (x, n) => h('span', { class: 'mono ctext' }, str(x, n || 80));
  function blockLink(height) { return height == null ? '–' : isHeight(height) ? link('#/block/' + Number(height), num(height), 'block ' + height) : plain(height); }
  function blockHashLink(hash) { return isHex64(hash) ? link('#/block/' + hash, short(hash), hash, 'mono') : plain(hash); }
  function txLink(hash, n) { return isHex64(hash) ? link('#/tx/' + hash, short(hash, n), hash, 'mono') : plain(hash); }
  function accountLink(addr) {
    if (!addr) return '–';
    if (!isHex64(addr)) return plain(addr);
    const c = state.contracts.get(addr);
    if (c) return contractLink(addr);
    return link('#/account/' + addr, short(addr), addr, 'mono');
  }
  function contractLink(addr) {
    if (!addr) return '–';
    if (!isHex64(addr)) return plain(addr);
    const c = state.contracts.get(addr);
    const label = c ? (c.interface && c.interface.contract ? c.interface.contract : 'contract') + ' ' + short(addr, 4) : short(addr);
    return link('#/contract/' + addr, label, addr, c ? '' : 'mono');
  }
  function anyAddrLink(addr) {
    return state.contracts.has(addr) ? contractLink(addr) : accountLink(addr);
  }
  const BADGES = {
      success: 'ok', valid: 'ok', anchored: 'ok', passed: 'ok', committed: 'ok', closed: 'neutral', open: 'info', revealing: 'warn',
      contract_error: 'bad', trap: 'bad', out_of_fuel: 'bad', refused: 'bad', revoked: 'bad', recalled: 'bad', failed: 'bad',
      pending: 'warn', superseded: 'warn', unknown: 'neutral', inactive: 'neutral', released: 'ok', refunded: 'warn',
      true: 'ok', false: 'bad', admin: 'info', member: 'neutral', validator: 'info', observer: 'neutral',
  };
  function badge(status, text) {
    const key = typeof status === 'boolean' ? String(status) : status;
    const cls = typeof key === 'string' && Object.hasOwn(BADGES, key) ? BADGES[key] : 'neutral';
    return h('span', { class: 'badge ' + cls }, text != null ? text : str(status, 60));
  }
  // JSON for display. Integers quoteBigInts turned into strings are shown as numbers again;
  // values too deep or too big to serialize fall back to truncated text.
  function pretty(v, indent) {
    try {
      const t = JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? '\u0000B' + x.toString() + '\u0000' : typeof x === 'string' && bigLits.has(x) ? '\u0000B' + x + '\u0000' : x), indent == null ? 2 : indent);
      if (t === undefined) return String(v);
      return t.indexOf('\\u0000B') < 0 ? t : t.replace(/"\\u0000B(-?\d+)\\u0000"/g, '$1');
    } catch (e) {
      let t;
      try { t = String(v); } catch (e2) { t = '(unprintable)'; }
      return trunc(t, 2000);
    }
  }
  function safeJson(v, n) { return trunc(pretty(v, 0), n || 2000); }
  function jsonBlock(v, attrs) { return h('pre', Object.assign({ class: 'json' }, attrs || {}), v === undefined ? '–' : trunc(pretty(v), 100000)); }
  function parseMaybeJson(text) {
    if (typeof text !== 'string') return text;
    try { return JSON.parse(quoteBigInts(text)); } catch (e) { return trunc(text, 20000); }
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
  // Bytes as one char each, decoded in one go (no spread of big arrays into arguments).
  const latin1Dec = new TextDecoder('latin1');
  function latin1(bytes) { return latin1Dec.decode(bytes); }
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
        const run = latin1(b.slice(i, j));
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
    const parts = [['ns', latin1(b.slice(1, 1 + L))]];
    let i = 1 + L;
    while (i < b.length) {
      let j = i;
      while (j < b.length && isPrintable(b[j])) j++;
      if (j > i && j + 1 < b.length && b[j] === 0 && b[j + 1] === 0 && (b.length - i !== 32 && b.length - i !== 40)) {
        parts.push(['s', latin1(b.slice(i, j))]); i = j + 2; continue;
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
  // A stored value as getRange/getHistory give it: the parsed JSON when the bytes are JSON,
  // else {"hex": "0x…"} (json.rs `output`).
  const isHexValue = (v) => v != null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.hex === 'string' && /^0x[0-9a-f]*$/.test(v.hex);
  function storedValueEl(v) {
    if (v === undefined) return h('span', { class: 'muted' }, '–');
    if (v === null) return h('span', { class: 'muted' }, '(empty)');
    if (isHexValue(v)) return valueEl(v.hex);
    return jsonBlock(v);
  }
  // Storage values given as hex: JSON if they are JSON text, else text if printable, else hex.
  function valueEl(hex) {
    if (hex == null) return h('span', { class: 'muted' }, '(empty)');
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
    names: new Map(), // trace contract -> Map(address -> party name): only for that contract's views
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
  // A contract's `interface` is whatever JSON its author chose: keep only well-formed parts
  // (methods: objects with a string name; args: {name: String, type: String}).
  function cleanInterface(x) {
    if (x == null || typeof x !== 'object' || Array.isArray(x)) return null;
    const sv = (v, n) => (typeof v === 'string' ? trunc(v, n) : null);
    const methods = [];
    if (Array.isArray(x.methods)) {
      for (const m of x.methods.slice(0, 500)) {
        if (m == null || typeof m !== 'object' || Array.isArray(m) || typeof m.name !== 'string' || !m.name) continue;
        const args = [];
        if (Array.isArray(m.args)) for (const a of m.args.slice(0, 100)) {
          if (a && typeof a === 'object' && typeof a.name === 'string' && typeof a.type === 'string') args.push({ name: trunc(a.name, 200), type: trunc(a.type, 300) });
        }
        methods.push({ name: trunc(m.name, 200), kind: sv(m.kind, 40), args, returns: typeof m.returns === 'string' ? trunc(m.returns, 300) : m.returns == null ? '' : safeJson(m.returns, 300), doc: sv(m.doc, 2000) || '' });
      }
    }
    return { contract: sv(x.contract, 120), abi: typeof x.abi === 'string' || typeof x.abi === 'number' ? x.abi : null, methods };
  }
  function cleanContract(c) {
    try {
      c.interface = cleanInterface(c.interface);
      c.kind = kindOf(c);
    } catch (e) { c.interface = null; c.kind = null; }
    return c;
  }

  async function loadContracts(force) {
    if (state.contracts.size && !force) return state.contracts;
    const m = new Map();
    let cursor = null;
    for (let i = 0; i < 50; i++) {
      const p = { limit: 100 };
      if (cursor) p.cursor = cursor;
      const r = await rpc('vellum_getContracts', [p]);
      for (const c of r.contracts || []) { if (c && isHex64(c.address)) m.set(c.address, cleanContract(c)); }
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
  const REPLAY = 300; // on reconnect, replay at most this many blocks back from the head
  const live = {
    ws: null, last: null, listeners: new Set(), backoff: 1000, timer: null, subId: 1,
    start(fromHeight) {
      if (this.ws) return;
      if (fromHeight != null && this.last == null) this.last = fromHeight - 1;
      this.connect();
    },
    connect() {
      let ws;
      try { ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/'); } catch (e) { this.retry(); return; }
      this.ws = ws;
      let gotBlock = false;
      ws.onopen = async () => {
        // Resume after the last block seen, but not from further back than REPLAY blocks.
        let from = this.last != null ? this.last + 1 : null;
        try {
          const st = await rpc('vellum_status');
          if (typeof st.height === 'number' && (from == null || from < st.height - REPLAY)) from = Math.max(0, st.height - REPLAY);
          if (this.last != null && from > this.last + 1) this.last = from - 1;
        } catch (e) { /* subscribe from the last block seen */ }
        if (ws.readyState !== 1) return;
        const params = from != null ? [from] : [];
        this.subId += 1;
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: this.subId, method: 'vellum_subscribeBlocks', params }));
        setLive('pending');
      };
      ws.onmessage = (m) => {
        let msg;
        try { msg = JSON.parse(quoteBigInts(String(m.data))); } catch (e) { return; }
        if (!msg || typeof msg !== 'object') return;
        if (msg.id === this.subId && msg.error) {
          // The subscription was refused: not live; try again later.
          setLive(false);
          try { ws.close(); } catch (e) { /* closing anyway */ }
          return;
        }
        if (msg.id === this.subId && msg.result !== undefined) { setLive(true); return; }
        if (msg.method === 'vellum_block' && msg.params && msg.params.result && typeof msg.params.result.height === 'number') {
          const b = msg.params.result;
          if (!gotBlock) { gotBlock = true; this.backoff = 1000; setLive(true); }
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
      this.timer = setTimeout(() => this.connect(), this.backoff * (0.75 + Math.random() * 0.5));
      this.backoff = Math.min(this.backoff * 2, 30000);
    },
  };
  function setLive(on) {
    const el = document.getElementById('live');
    el.textContent = on === 'pending' ? 'connecting' : on ? 'live' : 'not live';
    el.className = 'live ' + (on === true ? 'on' : 'off');
  }
  function onHead(b) {
    state.head = b;
    document.getElementById('head-height').textContent = num(b.height);
  }

  // ---------------------------------------------------------------- errors
  function showError(e, context, ctx) {
    if (e && e.stale) return;
    if (ctx && !ctx.alive()) return;
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
  let current = null; // the ctx of the page shown
  const routes = [];
  function route(re, name, fn) { routes.push({ re, name, fn }); }

  async function render() {
    const token = ++renderToken;
    if (current) { const old = current.cleanups; current.cleanups = []; for (const c of old) { try { c(); } catch (e) { /* ignore */ } } }
    clearError();
    const main = page();
    main.removeAttribute('data-ready');
    const hash = location.hash.replace(/^#/, '') || '/';
    let r = null, m = null;
    for (const x of routes) { m = hash.match(x.re); if (m) { r = x; break; } }
    // Route segments are decoded one by one (after matching); a bad escape is "not found".
    let args = null;
    if (r) {
      try { args = m.slice(1).map((x) => (x == null ? x : decodeURIComponent(x))); } catch (e) { r = null; }
    }
    if (!r) { r = { name: 'notfound', fn: notFoundPage }; args = [hash]; }
    main.setAttribute('data-page', r.name);
    clear(main);
    main.appendChild(h('p', { class: 'muted loading' }, 'Loading…'));
    document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', navFor(r.name) === a.getAttribute('data-nav')));
    const ctx = {
      token,
      redirected: false,
      cleanups: [],
      alive: () => token === renderToken,
      // Registered after the page was left: run at once.
      onCleanup(f) { if (ctx.alive()) ctx.cleanups.push(f); else { try { f(); } catch (e) { /* ignore */ } } },
      // Replace the route, unless the user has moved on already.
      redirect(target) { if (!ctx.alive()) return; ctx.redirected = true; location.replace(target); },
    };
    current = ctx;
    try {
      const content = await r.fn(ctx, ...args);
      if (!ctx.alive() || ctx.redirected) return;
      clear(main);
      if (content) append(main, [content]);
    } catch (e) {
      if (!ctx.alive() || ctx.redirected || (e && e.stale)) return;
      clear(main);
      main.appendChild(h('h1', null, 'Could not load this page'));
      showError(e, null, ctx);
    }
    if (ctx.alive() && !ctx.redirected) {
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
      if (!ctx.alive()) throw new Stale();
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
    // One drawTxs at a time: a call while one runs asks for one more run after it.
    let txRunning = null, txAgain = false;
    function drawTxs() {
      if (txRunning) { txAgain = true; return txRunning; }
      txRunning = (async () => {
        try {
          do { txAgain = false; await drawTxsOnce(); } while (txAgain && ctx.alive());
        } finally { txRunning = null; }
      })();
      return txRunning;
    }
    async function drawTxsOnce() {
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
      // Keep only what the table shows.
      const keep = new Set(recent.map((t) => t.hash));
      for (const k of [...txCache.keys()]) if (!keep.has(k)) txCache.delete(k);
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
          h('td', null, h('b', null, a.method ? str(a.method, 60) : '–')), h('td', null, ca ? (isHex64(ca) ? link('#/contract/' + ca, cc && cc.interface && cc.interface.contract ? cc.interface.contract : short(ca, 4), ca) : plain(ca)) : '–'),
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
          if (!ctx.alive()) return;
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
    const t1 = setInterval(() => {
      if (!dirty || !ctx.alive()) return;
      dirty = false;
      try { draw(); } catch (e) { showError(e, 'overview', ctx); }
      drawTxs().catch((e) => showError(e, 'latest transactions', ctx));
    }, 1000);
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
      for (const r of res) { if (r.error) showError(r.error, null, ctx); else rows.push(blockRow(r.result)); }
      lowest = Math.max(0, start - BLOCKS_PAGE + 1);
    } else {
      // Walk back 200 headers at a time until a page is full (at most 5,000 blocks per page).
      let top = start;
      while (rows.length < BLOCKS_PAGE && top >= 0 && scanned < 5000) {
        if (!ctx.alive()) throw new Stale();
        const calls = [];
        for (let x = top; x >= Math.max(0, top - 199); x--) calls.push(['vellum_getBlockByNumber', [x]]);
        const res = await rpcBatch(calls);
        for (const r of res) {
          if (r.error) { showError(r.error, null, ctx); continue; }
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
      txsOnly && scanned >= 5000 && rows.length < BLOCKS_PAGE && lowest > 0 ? h('p', { class: 'note small capnote' }, 'Scanned ' + num(scanned) + ' blocks for this page; truncated. “Older →” goes on from height ' + num(lowest - 1) + '.') : null,
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
        ['Block', h('span', null, blockLink(tx.height), ' · index ', isHeight(tx.height) ? link('#/block/' + Number(tx.height), String(tx.index)) : String(tx.index)), 'height', tx.height],
        ['Sender', h('span', null, accountLink(d.sender_address), ' ', h('span', { class: 'small muted mono', title: 'public key' }, short(d.sender, 6))), 'sender'],
        ['Nonce', num(d.nonce), 'nonce', d.nonce],
        ...actionRows,
        ['Arguments', jsonBlock(args === '' ? null : args), 'args'],
        ['Fuel used', rc ? num(rc.fuel_used) : '–', 'fuel_used', rc ? rc.fuel_used : null],
        ['Fuel limit', num(d.fuel_limit), 'fuel_limit'],
        ['Output', rc ? jsonBlock(rc.output) : '–', 'output'],
        ['Receipt hash', rc ? hashText(rc.receipt_hash, 10) : '–'],
        ['Receipt proof', rc ? proofEl(hash, ctx) : '–'],
        ['Chain id', d.chain_id],
      ])),
      section('Events (' + events.length + ')', events.length ? h('div', { id: 'events' }, events.map((e) => h('div', { class: 'event', 'data-event': e.event_index },
        h('div', { class: 'evhead' }, h('span', { class: 'topic' }, e.topic), ' · ', contractLink(e.contract), h('span', { class: 'muted small' }, ' #' + e.event_index)),
        jsonBlock(e.data)))) : h('p', { class: 'muted' }, 'No events.')),
    ];
  }

  // A button that fetches the receipt's proof bundle (vellum_getReceiptProof) and offers it
  // as a file for `vellum proof check`.
  function proofEl(hash, ctx) {
    const box = h('span', { id: 'receipt-proof' });
    const btn = h('button', { type: 'button', class: 'small-btn' }, 'Fetch proof');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        const p = await rpc('vellum_getReceiptProof', [hash]);
        const bytes = hexToBytes(p.proof);
        const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
        // The object URL lives until the download starts (or the page is left).
        let revoked = false;
        const revoke = () => { if (!revoked) { revoked = true; URL.revokeObjectURL(url); } };
        if (ctx) ctx.onCleanup(revoke);
        const dl = h('a', { href: url, download: 'receipt-' + hash.slice(2, 14) + '.proof' }, 'download');
        dl.addEventListener('click', () => {
          setTimeout(() => {
            revoke();
            dl.replaceWith(h('span', { class: 'muted' }, 'downloaded '), btn);
            btn.disabled = false; btn.textContent = 'Fetch again';
          }, 1000);
        });
        clear(box).append(badge('success', 'provable'), ' certified at block ', blockLink(p.certified_height), ' · ' + num(bytes.length) + ' bytes · ',
          dl, h('span', { class: 'small muted' }, ' (check offline with vellum proof check)'));
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
      h('td', { class: 'ctext' }, str(c.owner, 80)),
      h('td', null, accountLink(c.deployer)),
      h('td', null, blockLink(c.deployed_at)),
      h('td', null, c.kind ? link(KINDS[c.kind].route(c.address), 'open ' + KINDS[c.kind].label + ' →') : '')));
    return [h('h1', null, 'Contracts'), h('p', { class: 'muted' }, num(m.size) + ' deployed contracts. The kind is recognised from each contract’s interface methods.'),
      table(['Address', 'Kind', 'Version', 'Owner', 'Deployer', 'Deployed at', 'Use case'], rows, { id: 'contracts' })];
  }

  function argTemplate(type, depth) {
    depth = depth || 0;
    if (typeof type !== 'string' || depth > 8) return null;
    type = type.replace(/\s+/g, '');
    if (type.length > 256) return null;
    if (/^Option<(.*)>$/.test(type)) return null;
    if (/^(u|i)(8|16|32|64|128|size)$/.test(type)) return 0;
    if (type === 'bool') return false;
    if (type === 'String' || type === '&str') return '';
    if (type === 'Address') return '0x' + '0'.repeat(64);
    if (type === 'Hash') return '0x' + '0'.repeat(64);
    if (/^Vec<.*>$/.test(type)) return [];
    if (/^\(.*\)$/.test(type)) return type.slice(1, -1).split(',').slice(0, 16).map((t) => argTemplate(t, depth + 1));
    if (type === 'Choice') return 'for';
    if (type === 'Role') return 'farm';
    return null;
  }
  function templateFor(m) {
    const o = Object.create(null);
    for (const a of m.args) o[a.name] = argTemplate(a.type);
    return pretty(o);
  }

  async function contractPage(ctx, addr) {
    await loadContracts();
    const c = cleanContract(await rpc('vellum_getContract', [addr]));
    const methods = (c.interface && c.interface.methods) || [];
    const queries = methods.filter((m) => m.kind === 'query');

    // interface
    const ifaceRows = methods.map((m) => h('tr', { 'data-method': m.name },
      h('td', null, h('b', { class: 'mono' }, m.name)), h('td', null, badge(m.kind === 'query' ? 'open' : m.kind === 'execute' ? 'pending' : 'neutral', m.kind || '?')),
      h('td', { class: 'mono small' }, m.args.length ? m.args.map((a, i) => [i ? ', ' : '', h('span', null, trunc(a.name, 60)), h('span', { class: 'muted', title: a.type }, ': ' + trunc(a.type, 80))]) : h('span', { class: 'muted' }, '—')),
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
    let querySeq = 0;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const seq = ++querySeq;
      clear(out).appendChild(h('p', { class: 'muted' }, 'Running…'));
      out.removeAttribute('data-ok');
      const argText = ta.value.trim() || '{}';
      try { JSON.parse(argText); } catch (e) { clear(out).appendChild(h('p', { class: 'errmsg' }, 'Arguments are not valid JSON: ' + e.message)); return; }
      try {
        // The arguments go as typed (not re-serialized), so integers past 2^53 keep their digits.
        const params = '[' + JSON.stringify(addr) + ',' + JSON.stringify(sel.value) + ',' + argText + (hi.value !== '' ? ',' + Number(hi.value) : '') + ']';
        const body = '{"jsonrpc":"2.0","id":0,"method":"vellum_query","params":' + params + '}';
        let raw;
        for (let attempt = 0; ; attempt++) {
          raw = await post(null, body.replace('"id":0,', '"id":' + (++rpcId) + ','));
          if (!(raw.error && raw.error.code === BUSY && attempt < 4)) break;
          await sleep(150 + 250 * attempt + Math.random() * 150);
        }
        if (seq !== querySeq) return;
        if (raw.error) throw new RpcError('vellum_query', raw.error);
        const r = raw.result;
        clear(out).appendChild(h('div', null, h('p', { class: 'small muted' }, 'at height ' + num(r.height) + ' · ' + num(r.fuel_used) + ' fuel'), jsonBlock(r.output)));
        out.setAttribute('data-ok', '1');
      } catch (e) {
        if (seq !== querySeq) return;
        clear(out).appendChild(h('div', { class: 'errmsg' }, h('b', null, e.message + (e.code ? ' (' + e.code + ')' : '')), e.data !== undefined ? jsonBlock(e.data) : null));
        out.setAttribute('data-ok', '0');
      }
    });

    // version history: the deploy and each upgrade
    let versions = [];
    try { versions = (await rpc('vellum_getContractHistory', [addr, { limit: 100 }])).versions; } catch (e) { showError(e, 'version history', ctx); }
    const histRows = versions.map((v) => {
      const known = typeof v.version === 'number';
      return h('tr', { 'data-version': known ? v.version : '' }, h('td', null, blockLink(v.height)), h('td', { class: 'num' }, v.index),
        h('td', null, known ? 'v' + v.version : 'removed'), h('td', null, typeof v.code_hash === 'string' ? hashText(v.code_hash, 8) : '–'), h('td', { class: 'ctext' }, typeof v.owner === 'string' ? str(v.owner, 80) : '–'));
    });

    // storage browser
    const storage = h('div', { id: 'storage-box' });
    const keyHist = h('div', { id: 'key-history' });
    // cursors[i] starts page i. A page link carries its own target index; while a page loads
    // the links are disabled, and only the newest request may draw.
    const cursors = [null];
    let storageSeq = 0, storageBusy = false;
    async function loadStorage(pageIx) {
      if (storageBusy) return;
      storageBusy = true;
      const seq = ++storageSeq;
      storage.querySelectorAll('.pager a').forEach((a) => a.classList.add('disabled'));
      const p = { limit: 25 };
      if (cursors[pageIx]) p.cursor = cursors[pageIx];
      try {
        const r = await rpc('vellum_getRange', [addr, p]);
        if (seq !== storageSeq || !ctx.alive()) return;
        cursors[pageIx + 1] = r.next_cursor;
        const rows = r.entries.map((e) => h('tr', { 'data-key': e.key.hex },
          h('td', null, h('a', { href: '#', class: 'keylink', onclick: (ev) => { ev.preventDefault(); showKeyHistory(e.key); } }, keyEl(e.key))),
          h('td', null, storedValueEl(e.value))));
        const go = (ix) => (ev) => { ev.preventDefault(); if (!storageBusy) loadStorage(ix); };
        clear(storage).append(
          h('div', { class: 'pager' },
            pageIx > 0 ? h('a', { href: '#', onclick: go(pageIx - 1) }, '← Previous') : h('span', { class: 'muted' }, '← Previous'),
            h('span', { class: 'muted' }, 'page ' + (pageIx + 1)),
            r.next_cursor ? h('a', { href: '#', onclick: go(pageIx + 1) }, 'Next →') : h('span', { class: 'muted' }, 'Next →')),
          table(['Key', 'Value'], rows, { id: 'storage' }));
      } catch (e) { showError(e, 'storage', ctx); } finally {
        storageBusy = false;
        storage.querySelectorAll('.pager a').forEach((a) => a.classList.remove('disabled'));
      }
    }
    let histSeq = 0;
    async function showKeyHistory(key) {
      const seq = ++histSeq;
      document.querySelectorAll('#storage tr.sel').forEach((x) => x.classList.remove('sel'));
      for (const tr of document.querySelectorAll('#storage tr[data-key]')) if (tr.getAttribute('data-key') === key.hex) tr.classList.add('sel');
      keyHist.removeAttribute('data-ready');
      clear(keyHist).appendChild(h('p', { class: 'muted' }, 'Loading history…'));
      try {
        const r = await rpc('vellum_getHistory', [addr, key.hex, { order: 'desc', limit: 100 }]);
        if (seq !== histSeq || !ctx.alive()) return;
        clear(keyHist).append(h('h3', null, 'History of ', keyEl(key), h('span', { class: 'muted small' }, ' · newest first' + (r.next_cursor ? ' · first 100 versions' : ''))),
          table(['Height', 'Tx index', 'Value'], r.versions.map((v) => h('tr', { 'data-version-height': v.height },
            h('td', null, blockLink(v.height)), h('td', { class: 'num' }, v.index), h('td', null, v.removed ? badge('unknown', 'removed') : storedValueEl(v.value))))));
        keyHist.setAttribute('data-ready', '1');
        keyHist.scrollIntoView({ block: 'nearest' });
      } catch (e) { if (seq === histSeq) { clear(keyHist); showError(e, 'key history', ctx); } }
    }
    await loadStorage(0);

    let evs = [];
    try { evs = await newestEvents({ contract: addr }, 25, ctx); } catch (e) { if (e.stale) throw e; showError(e, 'events', ctx); }
    const evRows = evs.slice().reverse().map((e) => h('tr', { 'data-event': e.height + ':' + e.transaction_index + ':' + e.event_index },
      h('td', null, blockLink(e.height)), h('td', null, txLink(e.transaction, 4)), h('td', { class: 'ctext' }, h('span', { class: 'topic' }, str(e.topic, 80))),
      h('td', { class: 'mono small evdata' }, safeJson(e.data, 160))));

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
      section('Version history', h('p', { class: 'small muted' }, 'The deploy and each upgrade, newest first.'),
        table(['Height', 'Tx index', 'Version', 'Code hash', 'Owner'], histRows, { id: 'versions' })),
      section('Recent events', h('p', { class: 'small muted' }, evs.length ? 'The newest ' + num(evs.length) + ' events, newest first' + (evs.truncated ? ' (older events not shown).' : '.') : 'No events.'),
        evs.length ? table(['Block', 'Tx', 'Topic', 'Data'], evRows, { id: 'contract-events' }) : null),
      section('Storage', h('p', { class: 'small muted' }, 'Current entries in key order. Click a key for its history. Keys show printable bytes as text and other bytes as ‹hex›.'), storage, keyHist),
    ];
  }

  // ---------------------------------------------------------------- account
  async function accountPage(ctx, addr, cursor) {
    await loadContracts();
    if (state.contracts.has(addr)) { ctx.redirect('#/contract/' + addr); return null; }
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
    if (/^\d{1,16}$/.test(q)) { ctx.redirect('#/block/' + q); return null; }
    if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
      const x = q.toLowerCase();
      const r = await rpcBatch([['vellum_getTransaction', [x]], ['vellum_getBlockByHash', [x]], ['vellum_getContract', [x]], ['vellum_getAccount', [x]]]);
      const target = r[0].result ? '#/tx/' + x : r[1].result ? '#/block/' + x : r[2].result ? '#/contract/' + x : r[3].result ? '#/account/' + x : null;
      if (target) { ctx.redirect(target); return null; }
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
    if (!c) c = cleanContract(await rpc('vellum_getContract', [addr]));
    if (c.kind !== kind) throw new RpcError('route', { message: addr + ' is not a ' + KINDS[kind].label + ' contract' });
    return c;
  }
  function crumbs(...parts) { return h('div', { class: 'crumbs' }, parts.map((p, i) => [i ? ' / ' : '', p])); }

  // ---- trace
  // Party names are what one trace contract's parties call themselves: they label addresses
  // in that contract's views only, never elsewhere.
  function namesOf(contract) {
    let m = state.names.get(contract);
    if (!m) { m = new Map(); state.names.set(contract, m); }
    return m;
  }
  const PARTY_LOOKUPS = 200;
  async function partyNames(ctx, contract, addrs) {
    const names = namesOf(contract);
    const uniq = [...new Set(addrs.filter(isHex64))];
    const todo = uniq.filter((a) => !names.has(a)).slice(0, PARTY_LOOKUPS);
    if (todo.length) {
      const r = await queryMany(ctx, todo.map((a) => ['vellum_query', [contract, 'party_of', { address: a }]]));
      r.forEach((x, i) => {
        const o = x && x.result && x.result.output;
        names.set(todo[i], o && typeof o.name === 'string' ? trunc(nobidi(o.name), 60) : null);
      });
    }
    return (a) => { const n = names.get(a); return n || short(typeof a === 'string' ? a : str(a, 20), 4); };
  }

  async function lotsPage(ctx, addr) {
    await requireKind(addr, 'trace');
    const evs = await allEvents({ contract: addr }, 20, ctx);
    const names = namesOf(addr);
    const lots = new Map();
    const parties = [];
    const add = (id, o) => { const l = lots.get(id) || { id, height: null }; Object.assign(l, o); lots.set(id, l); return l; };
    for (const e of evs) {
      if (e.topic === 'party_registered') {
        // Registering an address again replaces its party: keep the latest.
        const d = e.data;
        if (!d || typeof d !== 'object' || !isHex64(d.address)) continue;
        const i = parties.findIndex((p) => p.address === d.address);
        if (i >= 0) parties.splice(i, 1);
        parties.push({ height: e.height, address: d.address, name: str(d.name, 60), role: str(d.role, 40) });
        if (typeof d.name === 'string') names.set(d.address, trunc(nobidi(d.name), 60));
        continue;
      }
      const d = e.data;
      const isId = (x) => typeof x === 'string' && x.length > 0 && x.length <= 200;
      try {
        if (e.topic === 'lot_created' && d && isId(d.id)) add(d.id, { product: d.product, quantity: d.quantity, unit: d.unit, origin: d.origin, height: e.height, how: 'created' });
        if (e.topic === 'split' && Array.isArray(d) && Array.isArray(d[1])) for (const x of d[1].slice(0, 1000)) if (Array.isArray(x) && isId(x[0])) add(x[0], { quantity: x[1], height: e.height, how: 'split from ' + str(d[0], 60), from: d[0] });
        if (e.topic === 'merged' && Array.isArray(d) && isId(d[1])) add(d[1], { height: e.height, how: 'merged from ' + (Array.isArray(d[0]) ? d[0].slice(0, 20).map((x) => str(x, 60)).join(', ') : str(d[0], 60)) });
        if (e.topic === 'recalled' && Array.isArray(d) && Array.isArray(d[0])) for (const id of d[0].slice(0, 1000)) if (isId(id)) add(id, { recalled: d[1] });
        if (e.topic === 'handed_over' && Array.isArray(d) && isId(d[0])) { const l = add(d[0], {}); l.hops = (l.hops || 0) + 1; }
        if (e.topic === 'inspected' && Array.isArray(d) && isId(d[0])) { const l = add(d[0], {}); l.insp = (l.insp || 0) + 1; if (!d[2]) l.failed = true; }
      } catch (err) { /* a malformed event: skip it */ }
    }
    // Current state of the newest lots (owner, quantity, product for split/merged lots).
    const LOTS_MAX = 200;
    const sorted = [...lots.values()].sort((a, b) => (a.height || 0) - (b.height || 0));
    const shownLots = sorted.slice(-LOTS_MAX);
    const ids = shownLots.map((l) => l.id);
    const cur = await queryMany(ctx, ids.map((id) => ['vellum_query', [addr, 'lot', { id }]]), 20);
    cur.forEach((r, i) => { if (r.result && r.result.output && typeof r.result.output === 'object') lots.get(ids[i]).cur = r.result.output; });
    const rows = shownLots.map((l) => {
      const c = l.cur || {};
      const recalled = c.recall || l.recalled;
      return h('tr', { 'data-lot': l.id, class: recalled ? 'recalled' : '' },
        h('td', { class: 'ctext' }, link('#/trace/' + addr + '/' + encodeURIComponent(l.id), trunc(l.id, 60))),
        h('td', { class: 'ctext' }, str(c.product || l.product || '–', 60)),
        h('td', { class: 'num' }, num(c.quantity != null ? c.quantity : l.quantity) + ' ' + str(c.unit || l.unit || '', 20)),
        h('td', null, c.owner ? accountLink(c.owner) : '–'),
        h('td', { class: 'small ctext' }, l.how || '–'),
        h('td', null, blockLink(l.height)),
        h('td', { class: 'num' }, num(l.hops || 0)),
        h('td', null, recalled ? badge('recalled', 'RECALLED') : c.active === false ? badge('inactive', 'inactive') : badge('success', 'active'), l.failed ? [' ', badge('failed', 'failed inspection')] : null));
    });
    const prow = parties.slice(-500).map((p) => h('tr', { 'data-party': p.address }, h('td', { class: 'ctext' }, h('b', null, p.name)), h('td', { class: 'ctext' }, p.role), h('td', null, link('#/account/' + p.address, short(p.address), p.address, 'mono')), h('td', null, blockLink(p.height))));
    return [
      crumbs(link('#/apps', 'Use cases'), 'Trace ' + short(addr, 4)),
      h('h1', null, 'Lots ', h('span', { class: 'small muted' }, 'trace contract ', contractLink(addr))),
      h('p', { class: 'muted' }, 'Lots from the contract’s events (lot_created, split, merged); current state from the lot query. Click a lot for its provenance graph.'),
      evs.truncated ? h('p', { class: 'note small capnote' }, 'Showing the first ' + num(evs.length) + ' events of this contract; truncated.') : null,
      capNote(shownLots.length, lots.size, false, 'the newest lots:'),
      section('Lots (' + lots.size + ')', table(['Lot', 'Product', 'Quantity', 'Holder', 'Origin', 'Since block', 'Handovers', 'Status'], rows, { id: 'lots' })),
      section('Parties (' + parties.length + ')', table(['Name', 'Role', 'Address', 'Registered at (latest)'], prow, { id: 'parties' })),
    ];
  }

  async function tracePage(ctx, addr, lotId) {
    await requireKind(addr, 'trace');
    const prov = cleanProvenance(await query(addr, 'trace', { lot: lotId }));
    if (!prov) throw new RpcError('trace', { message: 'the trace query gave no lot for ' + trunc(lotId, 80) });
    const all = [prov.lot, ...prov.upstream, ...prov.downstream];
    const addrs = [];
    for (const x of all.slice(0, PROV_LOTS)) { addrs.push(x.lot.owner, x.lot.origin); for (const c of x.custody.slice(0, HOPS_MAX)) addrs.push(c.from, c.to); for (const i of x.inspections.slice(0, INSP_MAX)) addrs.push(i.inspector); }
    const name = await partyNames(ctx, addr, addrs);
    const svg = drawProvenance(addr, prov, name);
    const L = prov.lot.lot;
    const TABLE_MAX = 500;
    const custRows = prov.lot.custody.slice(0, TABLE_MAX).map((c, i) => h('tr', { 'data-custody': i }, h('td', { class: 'num' }, i + 1), h('td', { class: 'ctext' }, name(c.from)), h('td', { class: 'ctext' }, name(c.to)), h('td', null, blockLink(c.height)), h('td', null, timeEl(c.at_ms))));
    const inspAll = all.flatMap((x) => x.inspections.map((i) => [x, i]));
    const inspRows = inspAll.slice(0, TABLE_MAX).map(([x, i]) => h('tr', null, h('td', { class: 'ctext' }, trunc(x.lot.id, 60)), h('td', { class: 'ctext' }, name(i.inspector)), h('td', null, badge(i.passed ? 'passed' : 'failed', i.passed ? 'pass' : 'fail')), h('td', { class: 'ctext' }, str(i.notes, 300)), h('td', null, timeEl(i.at_ms))));
    const addrLink = (a) => (isHex64(a) ? link('#/account/' + a, name(a), a) : plain(a));
    const rc = L.recall && typeof L.recall === 'object' ? L.recall : null;
    return [
      crumbs(link('#/apps', 'Use cases'), link('#/trace/' + addr, 'Trace ' + short(addr, 4)), trunc(lotId, 60)),
      h('h1', null, 'Provenance of ', h('span', { class: 'mono ctext' }, trunc(L.id, 80)), ' ', rc ? badge('recalled', 'RECALLED') : null),
      rc ? h('p', { class: 'recallnote' }, 'Recalled: “' + str(rc.reason, 300) + '”' + (rc.source !== L.id ? ' (recall issued on ancestor ' + str(rc.source, 60) + ')' : '') + ' · ', timeEl(rc.at_ms)) : null,
      section(null, kv([
        ['Product', str(L.product, 120)], ['Quantity', num(L.quantity) + ' ' + str(L.unit, 20)], ['Holder', addrLink(L.owner)],
        ['Origin', addrLink(L.origin)], ['Created', timeEl(L.created_at_ms)], ['Active', L.active ? 'yes' : 'no (split or merged away)'],
        ['Graph', prov.upstream.length + ' ancestors · ' + prov.downstream.length + ' descendants'],
      ])),
      section('Provenance graph (ancestors ← lot → descendants)', h('div', { class: 'graphwrap' }, svg),
        h('p', { class: 'small muted' }, 'Each box is a lot with its custody hops (block height: from → to) and inspections. Arrows run from parent to child lots (split or merge). Red: recalled. Click a lot to re-centre.')),
      section('Custody of ' + trunc(L.id, 60), capNote(custRows.length, prov.lot.custody.length, false, 'the first hops:'), table(['#', 'From', 'To', 'Block', 'Time'], custRows, { id: 'custody' })),
      inspRows.length ? section('Inspections', capNote(inspRows.length, inspAll.length, false, 'the first inspections:'), table(['Lot', 'Inspector', 'Result', 'Notes', 'Time'], inspRows)) : null,
    ];
  }

  function trunc(t, n) { t = String(t); return t.length > n ? t.slice(0, n - 1) + '…' : t; }

  // The trace query's answer, checked: lots with string ids, arrays where arrays belong;
  // ancestors and descendants without duplicates or the lot itself.
  const PROV_LOTS = 100, HOPS_MAX = 20, INSP_MAX = 5, DEPTH_MAX = 8;
  function cleanProvenance(p) {
    const arr = (x) => (Array.isArray(x) ? x : []);
    const ids = (x) => arr(x).filter((y) => typeof y === 'string');
    const node = (x) => {
      if (!x || typeof x !== 'object' || !x.lot || typeof x.lot !== 'object' || typeof x.lot.id !== 'string') return null;
      const lot = Object.assign({}, x.lot, { children: ids(x.lot.children), parents: ids(x.lot.parents) });
      return { lot, custody: arr(x.custody).filter((c) => c && typeof c === 'object'), inspections: arr(x.inspections).filter((c) => c && typeof c === 'object') };
    };
    if (!p || typeof p !== 'object') return null;
    const focus = node(p.lot);
    if (!focus) return null;
    const seen = new Set([focus.lot.id]);
    const list = (xs) => { const out = []; for (const x of arr(xs)) { const n = node(x); if (n && !seen.has(n.lot.id)) { seen.add(n.lot.id); out.push(n); } } return out; };
    const upstream = list(p.upstream), downstream = list(p.downstream);
    return { lot: focus, upstream, downstream };
  }

  function drawProvenance(addr, prov, name) {
    const focus = prov.lot.lot.id;
    const byId = new Map();
    for (const x of [prov.lot, ...prov.upstream, ...prov.downstream]) byId.set(x.lot.id, x);
    const up = new Set(prov.upstream.map((x) => x.lot.id)), down = new Set(prov.downstream.map((x) => x.lot.id));
    // Layers by breadth-first search from the lot: ancestors through parents (layer −1, −2, …),
    // descendants through children (1, 2, …). A lot keeps its first layer (back edges and
    // cycles are ignored); at most PROV_LOTS lots and DEPTH_MAX layers each way are drawn.
    const layer = new Map([[focus, 0]]);
    const bfs = (set, next, dir) => {
      let frontier = [focus];
      for (let d = 1; d <= DEPTH_MAX && frontier.length && layer.size < PROV_LOTS; d++) {
        const nf = [];
        for (const id of frontier) {
          for (const k of next(byId.get(id))) {
            if (layer.size >= PROV_LOTS) break;
            if (!set.has(k) || layer.has(k)) continue;
            layer.set(k, dir * d); nf.push(k);
          }
        }
        frontier = nf;
      }
    };
    bfs(up, (x) => x.lot.parents, -1);
    bfs(down, (x) => x.lot.children, 1);
    // Lots the search did not reach (the answer lists them, their links do not): next to the lot.
    for (const id of byId.keys()) { if (layer.size >= PROV_LOTS) break; if (!layer.has(id)) layer.set(id, up.has(id) ? -1 : 1); }
    const hidden = byId.size - layer.size;
    const layers = [...new Set(layer.values())].sort((a, b) => a - b);
    const cols = layers.map(() => []);
    const colOf = new Map(layers.map((l, i) => [l, i]));
    for (const [id, l] of layer) cols[colOf.get(l)].push(id);
    // Order within a column: by the mean position of already-placed neighbours (one sweep each way).
    const NW = 240, GAP = 74, PAD = 16, LH = 14;
    const hopsShown = (x) => Math.min(x.custody.length, HOPS_MAX) + (x.custody.length > HOPS_MAX ? 1 : 0);
    const inspShown = (x) => Math.min(x.inspections.length, INSP_MAX) + (x.inspections.length > INSP_MAX ? 1 : 0);
    const nodeH = (x) => 62 + Math.max(1, hopsShown(x)) * LH + (x.inspections.length ? 4 + inspShown(x) * LH : 0) + (x.lot.recall ? LH : 0);
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
    let maxH = 0;
    for (const col of cols) maxH = Math.max(maxH, col.reduce((a, id) => a + pos.get(id).h + 22, 0));
    // centre columns vertically
    cols.forEach((col) => {
      const colH = col.reduce((a, id) => a + pos.get(id).h + 22, 0);
      const off = (maxH - colH) / 2;
      for (const id of col) pos.get(id).y += off;
    });
    const W = PAD * 2 + cols.length * NW + (cols.length - 1) * GAP, H = maxH + PAD * 2 + 20 + (hidden > 0 ? 16 : 0);
    const svg = s('svg', { id: 'provenance', viewBox: `0 0 ${W} ${H}`, width: '100%', 'font-family': 'system-ui, sans-serif', 'data-lots': layer.size });
    // Fit the panel when it can without shrinking text below 90 %; scroll beyond that.
    svg.style.maxWidth = W + 'px';
    svg.style.minWidth = Math.round(W * 0.9) + 'px';
    if (hidden > 0) svg.appendChild(s('text', { x: PAD, y: H - 6, 'font-size': 11, fill: '#b45309' }, '+' + hidden + ' more lots not drawn (graph capped at ' + PROV_LOTS + ' lots, ' + DEPTH_MAX + ' levels each way)'));
    svg.appendChild(s('defs', null,
      s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#6b7280' })),
      s('marker', { id: 'arrowr', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#dc2626' }))));
    // column headers
    layers.forEach((l, ci) => svg.appendChild(s('text', { x: PAD + ci * (NW + GAP) + NW / 2, y: PAD + 4, 'text-anchor': 'middle', 'font-size': 11, fill: '#6b7280' },
      l < 0 ? (l === -1 ? 'parents' : 'ancestors (' + (-l) + ' up)') : l === 0 ? 'this lot' : (l === 1 ? 'children' : 'descendants (' + l + ' down)'))));
    // edges
    for (const [id, x] of byId) {
      if (!pos.has(id)) continue;
      for (const child of x.lot.children) {
        if (!pos.has(child)) continue;
        const a = pos.get(id), b = pos.get(child);
        const x1 = a.x + NW, y1 = a.y + 22, x2 = b.x, y2 = b.y + 22;
        const red = !!byId.get(child).lot.recall;
        const mx = (x1 + x2) / 2;
        const g = s('g', { 'data-edge': id + '>' + child });
        g.appendChild(s('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, fill: 'none', stroke: red ? '#dc2626' : '#9ca3af', 'stroke-width': 1.5, 'marker-end': red ? 'url(#arrowr)' : 'url(#arrow)' }));
        svg.appendChild(g);
      }
      // One label per split (at the parent) and per merge (at the merged lot).
      const kids = x.lot.children.filter((c) => pos.has(c));
      const splitKids = kids.filter((c) => byId.get(c).lot.parents.length <= 1);
      if (splitKids.length) {
        const a = pos.get(id);
        svg.appendChild(s('text', { x: a.x + NW + 6, y: a.y + 16, 'font-size': 10, fill: '#6b7280' }, splitKids.length > 1 ? 'split ×' + splitKids.length : 'split'));
      }
      if (x.lot.parents.length > 1 && x.lot.parents.some((p) => pos.has(p))) {
        const b = pos.get(id);
        svg.appendChild(s('text', { x: b.x - 6, y: b.y + 14, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7280' }, 'merge of ' + x.lot.parents.length));
      }
    }
    // nodes
    for (const [id, x] of byId) {
      if (!pos.has(id)) continue;
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
      a.appendChild(s('text', { x: 10, y: 34, 'font-size': 11, fill: '#374151' }, trunc(str(L.product), 24) + ' · ' + trunc(num(L.quantity), 24) + ' ' + str(L.unit, 12)));
      a.appendChild(s('text', { x: 10, y: 49, 'font-size': 11, fill: '#374151' }, 'holder: ' + trunc(name(L.owner), 26)));
      g.appendChild(a);
      let y = 64;
      if (!x.custody.length) { g.appendChild(s('text', { x: 10, y, 'font-size': 10, fill: '#9ca3af' }, 'no handovers')); y += LH; }
      x.custody.slice(0, HOPS_MAX).forEach((c, i) => {
        const hop = s('g', { 'data-hop': i, 'data-from': str(c.from, 70), 'data-to': str(c.to, 70), 'data-height': str(c.height, 20) });
        hop.appendChild(s('title', null, `hop ${i + 1}: ${name(c.from)} → ${name(c.to)} at block ${str(c.height, 20)} (${localTime(c.at_ms)})`));
        hop.appendChild(s('text', { x: 10, y, 'font-size': 10, fill: '#6b7280' }, '#' + str(c.height, 12)));
        hop.appendChild(s('text', { x: 58, y, 'font-size': 10.5, fill: '#1f2937' }, trunc(name(c.from), 14) + ' → ' + trunc(name(c.to), 14)));
        g.appendChild(hop);
        y += LH;
      });
      if (x.custody.length > HOPS_MAX) { g.appendChild(s('text', { x: 10, y, 'font-size': 10, fill: '#6b7280' }, '+' + (x.custody.length - HOPS_MAX) + ' more hops')); y += LH; }
      if (x.inspections.length) {
        y += 4;
        x.inspections.slice(0, INSP_MAX).forEach((ins) => {
          const ig = s('g', { 'data-inspection': ins.passed ? 'pass' : 'fail' });
          ig.appendChild(s('title', null, `${name(ins.inspector)}: ${ins.passed ? 'passed' : 'failed'} — ${str(ins.notes, 300)}`));
          ig.appendChild(s('text', { x: 10, y, 'font-size': 10.5, 'font-weight': 700, fill: ins.passed ? '#15803d' : '#dc2626' }, (ins.passed ? '✓ pass ' : '✗ fail ') + trunc(ins.notes ? str(ins.notes) : name(ins.inspector), 28)));
          g.appendChild(ig);
          y += LH;
        });
        if (x.inspections.length > INSP_MAX) { g.appendChild(s('text', { x: 10, y, 'font-size': 10, fill: '#6b7280' }, '+' + (x.inspections.length - INSP_MAX) + ' more inspections')); y += LH; }
      }
      if (recalled) g.appendChild(s('text', { x: 10, y: y + 2, 'font-size': 10.5, fill: '#dc2626' }, trunc('recall: ' + str(L.recall && L.recall.reason), 38)));
      svg.appendChild(g);
    }
    return svg;
  }

  // ---- notary / document check
  const VERDICTS = ['anchored', 'revoked', 'superseded', 'unknown'];
  async function documentPage(ctx, addr) {
    const m = await loadContracts();
    const notaries = [...m.values()].filter((c) => c.kind === 'notary');
    if (addr && !notaries.some((c) => c.address === addr)) notaries.push(await requireKind(addr, 'notary'));
    if (!notaries.length) return [h('h1', null, 'Document check'), h('p', null, 'No notary contract is deployed.')];
    // Any member may deploy a contract that looks like a notary: with more than one, the user
    // picks (owner organisation and deployer shown); none is picked for them.
    if (!addr && notaries.length === 1) addr = notaries[0].address;
    const current = addr || null;
    const optLabel = (c) => 'Notary ' + short(c.address, 6) + ' · owner ' + str(c.owner, 40) + ' · deployed by ' + short(c.deployer, 4) + ' at block ' + str(c.deployed_at, 20);
    const sel = h('select', { name: 'notary', id: 'notary-select' },
      current ? null : h('option', { value: '', selected: true }, 'Choose a notary contract…'),
      notaries.map((c) => h('option', { value: c.address, selected: c.address === current }, optLabel(c))));
    sel.addEventListener('change', () => { if (isHex64(sel.value)) location.hash = '#/document/' + sel.value; });
    const chooser = notaries.length > 1 ? h('label', { class: 'block' }, 'Notary contract ', sel) : h('p', { class: 'small' }, 'Notary contract: ', contractLink(current), ' · owner ', h('span', { class: 'ctext' }, str(notaries[0].owner, 40)));
    if (!current) {
      return [
        crumbs(link('#/apps', 'Use cases'), 'Document check'),
        h('h1', null, 'Document check'),
        h('p', { class: 'note' }, notaries.length + ' contracts on this chain look like notaries. Choose the one whose anchorings you trust: check its owner organisation and deployer.'),
        chooser,
        table(['Contract', 'Owner', 'Deployer', 'Deployed at'], notaries.map((c) => h('tr', { 'data-contract': c.address },
          h('td', null, link('#/document/' + c.address, short(c.address, 8), c.address, 'mono')), h('td', { class: 'ctext' }, str(c.owner, 60)),
          h('td', null, accountLink(c.deployer)), h('td', null, blockLink(c.deployed_at)))), { id: 'notaries' }),
      ];
    }
    const input = h('input', { type: 'file', id: 'document-file', name: 'document' });
    const hashOut = h('div', { id: 'document-hash', class: 'mono' });
    const verdictBox = h('div', { id: 'verdict-box' });
    const drop = h('label', { class: 'drop', id: 'drop', for: 'document-file' },
      h('div', { class: 'dropbig' }, 'Drop a document here, or click to choose a file'),
      h('div', { class: 'small muted' }, 'The file is hashed (SHA3-256) in your browser. Nothing is uploaded: only the hash is sent to this node, in a read-only query.'),
      input);
    // Only the newest file may draw: a slower, older check stops at its next step.
    let checkSeq = 0;
    const CHUNK = 4 * 1024 * 1024;
    async function hashFile(file, seq) {
      const hasher = window.sha3_256.create();
      for (let off = 0; off < file.size; off += CHUNK) {
        if (seq !== checkSeq || !ctx.alive()) return null;
        const buf = await file.slice(off, Math.min(file.size, off + CHUNK)).arrayBuffer();
        hasher.update(new Uint8Array(buf));
        if (file.size > CHUNK) hashOut.textContent = 'Hashing ' + file.name + '… ' + Math.floor((100 * Math.min(file.size, off + CHUNK)) / file.size) + ' %';
      }
      return '0x' + hasher.hex();
    }
    async function handle(file) {
      if (!file) return;
      const seq = ++checkSeq;
      const main = page();
      main.removeAttribute('data-ready');
      clear(verdictBox); clearError();
      hashOut.textContent = 'Hashing ' + file.name + '…';
      try {
        const hash = await hashFile(file, seq);
        if (hash == null || seq !== checkSeq || !ctx.alive()) return;
        await verify(hash, file.name, file.size, seq);
      } catch (e) {
        if (seq === checkSeq) showError(e, 'document check', ctx);
      }
      if (seq === checkSeq && ctx.alive()) main.setAttribute('data-ready', '1');
    }
    async function verify(hash, fname, size, seq) {
      clear(hashOut).append(h('div', { class: 'small muted' }, (fname || 'document') + (size != null ? ' · ' + num(size) + ' bytes' : '') + ' · SHA3-256'), h('div', { class: 'hashv', 'data-hash': hash }, hash));
      const r = await query(current, 'verify', { hash });
      if (seq !== checkSeq || !ctx.alive()) return;
      const d = r && typeof r.document === 'object' ? r.document : null;
      const rv = r && r.verdict === 'valid' ? 'anchored' : r && r.verdict;
      const verdict = VERDICTS.includes(rv) ? rv : 'unknown';
      const st = d && d.status && typeof d.status === 'object' ? d.status : {};
      let notaryName = null, revHeight = null, supHeight = null;
      if (d) {
        try { const n = await query(current, 'notary', { notary: d.notary }); notaryName = typeof n === 'string' ? trunc(n, 80) : null; } catch (e) { /* removed notary */ }
        if (st.status === 'revoked' || st.status === 'superseded') {
          const topic = st.status;
          const from = isHeight(d.anchored_at_height) ? Number(d.anchored_at_height) : 0;
          const evs = await allEvents({ contract: current, topic, from_height: from }, 10, ctx);
          const ev = evs.find((e) => (topic === 'revoked' ? e.data && e.data.hash === hash : Array.isArray(e.data) && e.data[0] === hash));
          if (ev) { if (topic === 'revoked') revHeight = ev.height; else supHeight = ev.height; }
        }
      }
      if (seq !== checkSeq || !ctx.alive()) return;
      const title = { anchored: 'Anchored: this document is on record and valid', revoked: 'Revoked: this document was anchored, then revoked', superseded: 'Superseded: this document was anchored, then replaced by a newer version', unknown: 'Unknown: this hash was never anchored with this notary contract' }[verdict];
      const note = rv !== verdict ? h('p', { class: 'small muted' }, 'The contract answered the verdict ', h('code', { class: 'ctext' }, str(r && r.verdict, 60)), ', which this page does not know.') : null;
      const rows = d ? [
        ['Notary contract', contractLink(current)],
        ['Anchored by', h('span', null, notaryName ? h('b', { class: 'ctext' }, notaryName + ' ') : null, accountLink(d.notary))],
        ['Document type', h('span', { class: 'ctext' }, str(d.doc_type, 120)), 'doc_type'],
        ['Issuer', h('span', { class: 'ctext' }, str(d.issuer, 120)), 'issuer'],
        ['Anchored at', h('span', null, 'block ', blockLink(d.anchored_at_height), ' · ', timeEl(d.anchored_at_ms)), 'anchored_at_height'],
        st.status === 'revoked' ? ['Revoked', h('span', { class: 'ctext' }, '“' + str(st.reason, 300) + '” · ', revHeight != null ? ['block ', blockLink(revHeight), ' · '] : null, timeEl(st.at_ms)), 'revocation'] : null,
        st.status === 'superseded' ? ['Superseded by', h('span', null, h('span', { class: 'mono' }, str(st.by, 80)), ' · ', supHeight != null ? ['block ', blockLink(supHeight), ' · '] : null, timeEl(st.at_ms)), 'superseded_by'] : null,
        d.supersedes ? ['Supersedes', h('span', { class: 'mono' }, str(d.supersedes, 80)), 'supersedes'] : null,
      ] : [['Notary contract', contractLink(current)], ['Looked up at block', num(state.head ? state.head.height : null)]];
      clear(verdictBox).appendChild(h('div', { id: 'verdict', class: 'verdict v-' + verdict, 'data-verdict': verdict, 'data-hash': hash },
        h('div', { class: 'vtitle' }, title), note, kv(rows)));
    }
    input.addEventListener('change', () => handle(input.files && input.files[0]));
    const evs = (await newestEvents({ contract: current }, 50, ctx, (e) => ['anchored', 'revoked', 'superseded'].includes(e.topic))).slice().reverse();
    const names = new Map();
    const who = [...new Set(evs.filter((e) => e.data && isHex64(e.data.notary)).map((e) => e.data.notary))].slice(0, 50);
    const nres = await queryMany(ctx, who.map((a) => ['vellum_query', [current, 'notary', { notary: a }]]));
    who.forEach((a, i) => { const o = nres[i].result && nres[i].result.output; if (typeof o === 'string') names.set(a, trunc(o, 60)); });
    const recentTable = table(['Block', 'Event', 'Document hash', 'Type', 'Issuer', 'Notary', 'Tx'], evs.map((e) => {
      const d = Array.isArray(e.data) ? { hash: e.data[0] } : e.data && typeof e.data === 'object' ? e.data : {};
      return h('tr', { 'data-doc-event': e.topic }, h('td', null, blockLink(e.height)),
        h('td', null, badge(e.topic === 'anchored' ? 'success' : e.topic === 'revoked' ? 'failed' : 'pending', e.topic)),
        h('td', null, hashText(str(d.hash, 80), 8), Array.isArray(e.data) ? h('span', { class: 'small muted' }, ' → ', hashText(str(e.data[1], 80), 6)) : null),
        h('td', { class: 'ctext' }, d.doc_type ? str(d.doc_type, 60) : '–'), h('td', { class: 'ctext' }, d.issuer ? str(d.issuer, 60) : '–'),
        h('td', null, d.notary ? h('span', null, names.get(d.notary) ? h('span', { class: 'ctext' }, names.get(d.notary) + ' ') : '', accountLink(d.notary)) : '–'),
        h('td', null, txLink(e.transaction, 4)));
    }), { id: 'notary-activity' });
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); handle(e.dataTransfer.files && e.dataTransfer.files[0]); });
    return [
      crumbs(link('#/apps', 'Use cases'), 'Document check'),
      h('h1', null, 'Document check'),
      h('p', { class: 'muted' }, 'Verify a document against the notary contract. The hash is computed locally with SHA3-256 (FIPS 202, the same as ', h('code', null, 'vellum verify'), ' and ', h('code', null, 'openssl dgst -sha3-256'), '); the document never leaves your computer.'),
      chooser,
      drop, hashOut, verdictBox,
      section('Recent notary activity', h('p', { class: 'small muted' }, 'The newest ' + num(evs.length) + ' anchorings, revocations and supersessions recorded by this contract’s events' + (evs.truncated ? ' (older ones not shown).' : '.')), recentTable),
    ];
  }

  // Lists of a use case's records: the newest LIST_MAX, each read with one query.
  const LIST_MAX = 200;
  const obj = (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : null);
  // An integer (number or the digits quoteBigInts left as a string) as a BigInt, else null.
  function toBig(x) {
    if (typeof x === 'bigint') return x;
    if (typeof x === 'number' && Number.isSafeInteger(x)) return BigInt(x);
    if (typeof x === 'string' && /^-?\d{1,40}$/.test(x)) return BigInt(x);
    return null;
  }
  const isId = (x) => (typeof x === 'string' && x.length > 0 && x.length <= 200) || (typeof x === 'number' && Number.isSafeInteger(x));
  function listNote(evs, what) {
    return evs.truncated ? h('p', { class: 'note small capnote' }, 'Showing the last ' + num(evs.length) + ' ' + what + '; truncated (older ones not shown).') : null;
  }

  // ---- ballot
  async function meetingsPage(ctx, addr) {
    await requireKind(addr, 'ballot');
    const evs = (await newestEvents({ contract: addr, topic: 'meeting_created' }, LIST_MAX, ctx)).filter((e) => obj(e.data) && isId(e.data.id));
    const cur = await queryMany(ctx, evs.map((e) => ['vellum_query', [addr, 'meeting', { id: e.data.id }]]));
    const rows = evs.slice().reverse().map((e, k) => {
      const i = evs.length - 1 - k;
      const m = obj(cur[i].result && cur[i].result.output) || e.data;
      const mid = isId(m.id) ? String(m.id) : String(e.data.id);
      return h('tr', { 'data-meeting': mid }, h('td', { class: 'ctext' }, link('#/meeting/' + addr + '/' + encodeURIComponent(mid), trunc(mid, 60))), h('td', { class: 'ctext' }, str(m.title, 120)),
        h('td', { class: 'num' }, Array.isArray(m.items) ? m.items.length : '–'), h('td', { class: 'num' }, num(m.total_shares)), h('td', null, m.secret ? 'secret' : 'public'),
        h('td', { class: 'num' }, typeof m.quorum_bps === 'number' ? (m.quorum_bps / 100) + ' %' : '–'), h('td', null, badge(m.status)), h('td', null, blockLink(e.height)));
    });
    return [crumbs(link('#/apps', 'Use cases'), 'Ballot ' + short(addr, 4)), h('h1', null, 'Meetings ', h('span', { class: 'small muted' }, contractLink(addr))),
      listNote(evs, 'meetings'),
      table(['Meeting', 'Title', 'Items', 'Shares', 'Voting', 'Quorum', 'Status', 'Created at'], rows, { id: 'meetings' })];
  }

  const CHOICES = ['for', 'against', 'abstain'];
  async function meetingPage(ctx, addr, id) {
    await requireKind(addr, 'ballot');
    const m = obj(await query(addr, 'meeting', { id }));
    if (!m) throw new RpcError('meeting', { message: 'the meeting query gave no meeting' });
    const items = Array.isArray(m.items) ? m.items.slice(0, 1000) : [];
    let tally = null, tallyErr = null;
    try { const t = await query(addr, 'tally', { meeting: id }); tally = Array.isArray(t) ? t : null; } catch (e) { tallyErr = e; }
    let votes = [], truncated = false;
    for (const topic of ['vote_cast', 'vote_revealed', 'vote_committed']) {
      const evs = await allEvents({ contract: addr, topic }, 20, ctx);
      if (evs.truncated) truncated = true;
      for (const e of evs) if (Array.isArray(e.data) && e.data[0] === id) votes.push(e);
    }
    votes.sort((x, y) => x.height - y.height || x.transaction_index - y.transaction_index || x.event_index - y.event_index);
    // Running counts from events when the tally is not available yet: only well-formed votes
    // (an item index in range, a known choice) count; shares are summed as BigInt.
    const counts = items.map(() => ({ for: 0n, against: 0n, abstain: 0n, committed: 0 }));
    const itemOf = (x) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < items.length ? x : null);
    for (const e of votes) {
      const i = itemOf(e.data[1]);
      if (i == null) continue;
      if (e.topic === 'vote_cast' || e.topic === 'vote_revealed') {
        const c = e.data[3], v = toBig(e.data[4]);
        if (typeof c === 'string' && CHOICES.includes(c) && v != null) counts[i][c] += v;
      }
      if (e.topic === 'vote_committed') counts[i].committed += 1;
    }
    const totalB = toBig(m.total_shares);
    const total = totalB != null && totalB > 0n ? totalB : 1n;
    const pct = (v) => Math.max(0, Math.min(100, Number((v * 10000n) / total) / 100));
    const quorum = typeof m.quorum_bps === 'number' && Number.isFinite(m.quorum_bps) ? Math.max(0, Math.min(100, m.quorum_bps / 100)) : null;
    const rows = items.map((title, i) => {
      const t = tally ? obj(tally.find((x) => x && x.item === i) || tally[i]) : null;
      const pick = (x, fallback) => { const b = toBig(x); return b != null ? b : fallback; };
      const f = t ? pick(t.for_shares, 0n) : counts[i].for, a = t ? pick(t.against_shares, 0n) : counts[i].against, ab = t ? pick(t.abstain_shares, 0n) : counts[i].abstain;
      const bar = h('div', { class: 'vbar', title: `for ${f} · against ${a} · abstain ${ab} · of ${total} shares` });
      for (const [v, c] of [[f, 'for'], [a, 'against'], [ab, 'abstain']]) { const seg = h('span', { class: 'seg ' + c }); seg.style.width = pct(v).toFixed(2) + '%'; bar.appendChild(seg); }
      if (quorum != null) { const q = h('span', { class: 'qmark' }); q.style.left = quorum + '%'; bar.appendChild(q); }
      return h('tr', { 'data-item': i }, h('td', { class: 'num' }, i + 1), h('td', { class: 'ctext' }, str(title, 300)),
        h('td', { class: 'num', 'data-field': 'for' }, num(f)), h('td', { class: 'num', 'data-field': 'against' }, num(a)), h('td', { class: 'num', 'data-field': 'abstain' }, num(ab)),
        h('td', null, bar),
        h('td', null, t ? [t.quorum_reached ? badge('success', 'quorum') : badge('failed', 'no quorum'), ' ', t.passed ? badge('success', 'passed') : badge('failed', 'not passed')] : h('span', { class: 'muted small' }, m.secret ? counts[i].committed + ' committed' : 'running')));
    });
    const VOTES_MAX = 500;
    const shownVotes = votes.slice(-VOTES_MAX);
    const vrows = shownVotes.map((e) => {
      const i = itemOf(e.data[1]);
      const c = typeof e.data[3] === 'string' && CHOICES.includes(e.data[3]) ? e.data[3] : null;
      return h('tr', null, h('td', null, blockLink(e.height)), h('td', null, e.topic.replace('vote_', '')), h('td', { class: 'num' }, i != null ? i + 1 : str(e.data[1], 20)), h('td', null, accountLink(e.data[2])),
        h('td', null, c ? badge(c === 'for' ? 'success' : c === 'against' ? 'failed' : 'unknown', c) : e.data[3] != null ? h('span', { class: 'ctext' }, str(e.data[3], 40)) : h('span', { class: 'muted' }, 'sealed')), h('td', { class: 'num' }, e.data[4] != null ? num(e.data[4]) : '–'), h('td', null, txLink(e.transaction, 4)));
    });
    const mid = isId(m.id) ? String(m.id) : id;
    return [
      crumbs(link('#/apps', 'Use cases'), link('#/meeting/' + addr, 'Ballot ' + short(addr, 4)), trunc(id, 60)),
      h('h1', { class: 'ctext' }, str(m.title, 200), ' ', badge(m.status)),
      section(null, kv([['Meeting id', mid, 'id'], ['Organiser', accountLink(m.organiser)], ['Voting', m.secret ? 'secret (commit, then reveal)' : 'public'], ['Registered shares', num(m.total_shares)], ['Quorum', quorum != null ? quorum + ' % of shares' : '–'], ['Status', badge(m.status), 'status']])),
      section(tally ? 'Tally' : 'Tally (not final)', tallyErr ? h('p', { class: 'note small' }, 'The final tally is available once the meeting is closed (' + tallyErr.message + (tallyErr.data && tallyErr.data.error ? ': ' + str(tallyErr.data.error.message, 200) : '') + '). Counts below come from the vote events so far.') : null,
        table(['#', 'Item', 'For', 'Against', 'Abstain', 'Shares (quorum mark)', 'Result'], rows, { id: 'tally' }),
        h('p', { class: 'small muted legend' }, h('span', { class: 'sw for' }), ' for ', h('span', { class: 'sw against' }), ' against ', h('span', { class: 'sw abstain' }), ' abstain · bar width is share of all registered shares')),
      section('Votes (' + votes.length + ')', truncated ? h('p', { class: 'note small capnote' }, 'Only the first pages of vote events were read; truncated.') : null,
        capNote(shownVotes.length, votes.length, false, 'the last votes:'),
        table(['Block', 'Event', 'Item', 'Voter', 'Choice', 'Shares', 'Tx'], vrows, { id: 'votes' })),
    ];
  }

  // ---- points
  async function pointsIndexPage(ctx, addr) {
    await requireKind(addr, 'points');
    const evs = await allEvents({ contract: addr }, 20, ctx);
    const allIssuers = evs.filter((e) => e.topic === 'issuer_registered' && obj(e.data) && isId(e.data.id)).map((e) => ({ height: e.height, id: e.data.id, name: e.data.name, admin: e.data.admin }));
    const issuers = allIssuers.slice(-LIST_MAX);
    const cur = await queryMany(ctx, issuers.map((i) => ['vellum_query', [addr, 'issuer', { id: i.id }]]));
    const rates = new Map();
    for (const e of evs) if (e.topic === 'rate_agreed' && Array.isArray(e.data) && obj(e.data[2])) rates.set(str(e.data[0], 60) + '>' + str(e.data[1], 60), { from: e.data[0], to: e.data[1], rate: e.data[2], height: e.height });
    const members = new Map();
    const touch = (a, h0) => { if (isHex64(a) && !state.contracts.has(a)) members.set(a, Math.max(members.get(a) || 0, h0)); };
    for (const e of evs) {
      const d = Array.isArray(e.data) ? e.data : [];
      if (e.topic === 'minted') touch(d[1], e.height);
      if (e.topic === 'transferred') { touch(d[1], e.height); touch(d[2], e.height); }
      if (e.topic === 'redeemed') touch(d[1], e.height);
      if (e.topic === 'swapped') touch(d[0], e.height);
      if (e.topic === 'approved') touch(d[1], e.height);
    }
    const irows = issuers.map((i, k) => {
      const c = obj(cur[k].result && cur[k].result.output) || i;
      return h('tr', { 'data-issuer': String(i.id) }, h('td', { class: 'ctext' }, h('b', null, str(c.name, 80))), h('td', { class: 'mono ctext' }, str(i.id, 60)), h('td', null, accountLink(c.admin)), h('td', { class: 'num' }, num(c.supply)), h('td', null, blockLink(i.height)));
    });
    const rrows = [...rates.values()].slice(-LIST_MAX).map((r) => h('tr', { 'data-rate': str(r.from, 60) + '>' + str(r.to, 60) }, h('td', { class: 'ctext' }, str(r.from, 60)), h('td', { class: 'ctext' }, str(r.to, 60)),
      h('td', { class: 'num' }, num(r.rate.numerator) + ' : ' + num(r.rate.denominator)), h('td', null, r.rate.agreed_by_from && r.rate.agreed_by_to ? badge('success', 'active') : badge('pending', 'awaiting ' + (r.rate.agreed_by_from ? 'to' : 'from'))), h('td', null, blockLink(r.height))));
    const memberList = [...members.entries()].sort((a, b) => b[1] - a[1]);
    const mrows = memberList.slice(0, 500).map(([a, hh]) => h('tr', { 'data-member': a }, h('td', null, link('#/points/' + addr + '/' + a, short(a, 8), a, 'mono')), h('td', null, blockLink(hh))));
    return [crumbs(link('#/apps', 'Use cases'), 'Points ' + short(addr, 4)), h('h1', null, 'Loyalty points ', h('span', { class: 'small muted' }, contractLink(addr))),
      evs.truncated ? h('p', { class: 'note small capnote' }, 'Showing what the first ' + num(evs.length) + ' events of this contract tell; truncated.') : null,
      section('Issuers', capNote(issuers.length, allIssuers.length, false, 'the last issuers:'), table(['Name', 'Id', 'Admin', 'Supply', 'Registered at'], irows, { id: 'issuers' })),
      section('Conversion rates (latest agreement per pair; 1 point of from → numerator/denominator of to)', table(['From', 'To', 'Rate', 'State', 'Agreed at'], rrows, { id: 'rates' })),
      section('Members seen in events', capNote(mrows.length, memberList.length, false, 'the most recently active members:'), table(['Member', 'Last activity'], mrows, { id: 'members' }))];
  }

  async function pointsMemberPage(ctx, addr, member) {
    await requireKind(addr, 'points');
    const evs = await allEvents({ contract: addr }, 20, ctx);
    const allIssuers = evs.filter((e) => e.topic === 'issuer_registered' && obj(e.data) && isId(e.data.id)).map((e) => e.data);
    const issuers = allIssuers.slice(0, LIST_MAX);
    const bal = await queryMany(ctx, issuers.map((i) => ['vellum_query', [addr, 'balance', { issuer: i.id, member }]]));
    const hist = await queryMany(ctx, [['vellum_query', [addr, 'history', { member, before: null, limit: 100 }]]]);
    const brows = issuers.map((i, k) => h('tr', { 'data-issuer': String(i.id) }, h('td', { class: 'ctext' }, h('b', null, str(i.name, 80))), h('td', { class: 'mono ctext' }, str(i.id, 60)),
      h('td', { class: 'num', 'data-field': 'balance' }, bal[k].result ? num(bal[k].result.output) : h('span', { class: 'errmsg' }, bal[k].error.message))));
    const swaps = evs.filter((e) => e.topic === 'swapped' && Array.isArray(e.data) && e.data[0] === member);
    const srows = swaps.slice(-500).reverse().map((e) => h('tr', { 'data-swap': str(e.transaction, 70) }, h('td', null, blockLink(e.height)), h('td', { class: 'ctext' }, str(e.data[1], 60)), h('td', { class: 'num' }, num(e.data[2])), h('td', null, '→'), h('td', { class: 'ctext' }, str(e.data[3], 60)), h('td', { class: 'num' }, num(e.data[4])), h('td', null, txLink(e.transaction, 4))));
    const out = hist[0].result ? hist[0].result.output : null;
    const moves = Array.isArray(out) ? out.filter((x) => Array.isArray(x) && obj(x[1])).slice(0, 100) : [];
    const mrows = moves.map(([seq, mv]) => h('tr', null, h('td', { class: 'num' }, str(seq, 20)), h('td', null, blockLink(mv.height)), h('td', null, timeEl(mv.time_ms)), h('td', { class: 'ctext' }, str(mv.kind, 40).replace('_', ' ')), h('td', { class: 'ctext' }, str(mv.issuer, 60)), h('td', { class: 'num' }, num(mv.amount)), h('td', null, mv.counterparty ? anyAddrLink(mv.counterparty) : '–')));
    if (hist[0].error) showError(hist[0].error, 'history', ctx);
    return [crumbs(link('#/apps', 'Use cases'), link('#/points/' + addr, 'Points ' + short(addr, 4)), short(member, 6)),
      h('h1', null, 'Points of ', h('span', { class: 'mono small' }, member)),
      h('p', null, link('#/account/' + member, 'Account page →')),
      evs.truncated ? h('p', { class: 'note small capnote' }, 'Issuers and swaps from the first ' + num(evs.length) + ' events of this contract; truncated.') : null,
      section('Balances', capNote(issuers.length, allIssuers.length, false, 'the first issuers:'), table(['Issuer', 'Id', 'Balance'], brows, { id: 'balances' })),
      section('Swaps', capNote(srows.length, swaps.length, false, 'the last swaps:'), table(['Block', 'From issuer', 'Amount', '', 'To issuer', 'Received', 'Tx'], srows, { id: 'swaps' })),
      section('Movements (history query, newest first)', table(['Seq', 'Block', 'Time', 'Kind', 'Issuer', 'Amount', 'Counterparty'], mrows, { id: 'movements' }))];
  }

  // ---- escrow
  async function escrowPage(ctx, addr) {
    await requireKind(addr, 'escrow');
    const evs = (await newestEvents({ contract: addr, topic: 'opened' }, LIST_MAX, ctx)).filter((e) => obj(e.data) && isId(e.data.id));
    const cur = await queryMany(ctx, evs.map((e) => ['vellum_query', [addr, 'deal', { id: e.data.id }]]));
    const rows = evs.map((e, i) => {
      const d = obj(cur[i].result && cur[i].result.output) || e.data;
      return h('tr', { 'data-deal': str(d.id, 40) }, h('td', { class: 'num' }, str(d.id, 40)), h('td', null, accountLink(d.buyer)), h('td', null, accountLink(d.seller)), h('td', { class: 'ctext' }, str(d.issuer, 60)), h('td', { class: 'num' }, num(d.amount)), h('td', null, timeEl(d.deadline_ms)), h('td', null, badge(d.state)), h('td', null, blockLink(e.height)));
    }).reverse();
    return [crumbs(link('#/apps', 'Use cases'), 'Escrow ' + short(addr, 4)), h('h1', null, 'Escrow deals ', h('span', { class: 'small muted' }, contractLink(addr))),
      listNote(evs, 'deals'),
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
