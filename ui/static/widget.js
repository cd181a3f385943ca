/*! Lepton chat widget. Apache-2.0. No dependencies, no build step.
 * <script src="https://HOST/widget.js" data-key="KEY" [data-lang="en|zh"] [data-title="..."] [data-color="#hex"]
 *   [data-greeting="..."] [data-avatar="URL"] async></script>
 * The server inlines its [brand] settings below; the data- attributes override them for one site.
 * Every string from the server is set with textContent: replies are data, never markup. */
(function () {
  'use strict';
  var script = document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-key]') ||
    document.querySelector('script[src*="widget.js"]');
  if (!script || !script.src) return;
  var API = new URL(script.src, location.href).origin;
  var KEY = script.getAttribute('data-key') || '';
  // The server's [brand] settings, JSON put here when it serves this file ({} as the file is stored).
  var BRAND = /*BRAND*/{}/*BRAND*/;
  // How a starting server's stages are called, per language, and its "Getting ready…" texts (also inlined by the
  // server, from the chat page's own; {} as the file is stored: STRINGS.ready and the stages' English names).
  var READY = /*READY*/{}/*READY*/;
  function attr(name) { return (script.getAttribute('data-' + name) || '').trim(); }
  function text(v) { return typeof v === 'string' ? v.trim() : ''; }
  // A hex colour only (it goes into CSS); a picture only from http(s) or an inline image.
  function colour(v) { v = text(v); return /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(v) ? v.toLowerCase() : ''; }
  function picture(v) {
    v = text(v);
    return /^https?:\/\/[^\s"'<>\\]+$/i.test(v) ||
      /^data:image\/(?:png|jpeg|gif|webp|svg\+xml)(?:;base64)?,/i.test(v) ? v : '';
  }
  var TITLE = attr('title') || text(BRAND.name);
  var ACCENT = colour(attr('color')) || colour(BRAND.color) || '#2b59c3';
  var AVATAR = picture(attr('avatar')) || picture(BRAND.avatar);
  var POLL_MS = 4000;
  var READY_POLL_MS = 1500, READY_WAIT_MS = 300000;  // a starting server: how often to look, how long to hold
  var THUMB = 'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 ' +
    '7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.26.14-.53.14-.73v-2z';
  var STORE = 'lepton:' + API + ':session';

  var STRINGS = {
    en: {
      title: 'Customer support', open: 'Open chat', openNew: 'Open chat (new message)', close: 'Close chat',
      hello: 'Hi! How can we help you today?', placeholder: 'Type your question\u2026', send: 'Send',
      input: 'Your message', log: 'Conversation', you: 'You', bot: 'Assistant', agent: 'Agent',
      sources: 'Sources', up: 'Helpful', down: 'Not helpful', thanks: 'Thanks for your feedback!',
      fbError: 'Your feedback could not be sent. Please try again.',
      handoff: 'You are being connected to a person. An agent will reply here.',
      network: 'Cannot reach the assistant. Check your connection and try again.',
      auth: 'This chat is not set up correctly (the site key was refused).',
      tooLong: 'Your message is too long. Please shorten it and try again.',
      invalid: 'Your message could not be sent.',
      rate: 'Too many messages. Please wait a moment and try again.',
      starting: 'The assistant is starting up. Please try again in a moment.',
      ready: 'Getting ready\u2026 {stage} ({percent} %)',
      gaveUp: "Sorry, I'm still starting up and can't answer yet. Please send your question again in a few minutes.",
      server: 'Something went wrong on our side. Please try again.',
      interrupted: 'The reply was interrupted. Please try again.'
    },
    zh: {
      title: '在线客服', open: '打开聊天', openNew: '打开聊天（有新消息）', close: '关闭聊天',
      hello: '您好！请问有什么可以帮您？', placeholder: '请输入您的问题\u2026', send: '发送',
      input: '您的消息', log: '对话', you: '您', bot: '助手', agent: '客服',
      sources: '来源', up: '有帮助', down: '没有帮助', thanks: '感谢您的反馈！',
      fbError: '反馈发送失败，请重试。',
      handoff: '正在为您转接人工客服，客服会在这里回复您。',
      network: '无法连接到客服助手，请检查网络后重试。',
      auth: '聊天配置有误（站点密钥被拒绝）。',
      tooLong: '您的消息太长了，请缩短后重试。',
      invalid: '您的消息无法发送。',
      rate: '消息太频繁，请稍候再试。',
      starting: '客服助手正在启动，请稍后再试。',
      ready: '正在准备\u2026{stage}（{percent}%）',
      gaveUp: '抱歉，我还在启动中，暂时无法回答。请过几分钟再发送一次您的问题。',
      server: '我们这边出了点问题，请重试。',
      interrupted: '回复中断了，请重试。'
    }
  };
  function pickLang(code) {
    code = String(code || '').toLowerCase();
    return code.indexOf('zh') === 0 ? 'zh' : code.indexOf('en') === 0 ? 'en' : null;
  }
  var lang = pickLang(script.getAttribute('data-lang')) || pickLang(navigator.language) || 'en';
  function t(k) { return STRINGS[lang][k]; }
  function greeting() { return attr('greeting') || text((BRAND.greeting || {})[lang]) || t('hello'); }
  function suggestions() {
    var list = (BRAND.suggestions || {})[lang];
    return (Array.isArray(list) ? list : []).map(text).filter(Boolean).slice(0, 6);
  }
  // Text on the accent: white or the widget's dark ink, whichever contrasts more (WCAG relative luminance).
  function onAccent(hex) {
    var h = hex.length === 4 ? hex.replace(/\w/g, '$&$&') : hex;
    var y = [1, 3, 5].reduce(function (sum, i, n) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return sum + [0.2126, 0.7152, 0.0722][n] * (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
    }, 0);
    return 1.05 / (y + 0.05) >= (y + 0.05) / 0.0664 ? '#fff' : '#1f2328';
  }

  var memory = {};
  function load(k) { try { return sessionStorage.getItem(k); } catch (e) { return memory[k] || null; } }
  function save(k, v) {
    try { if (v) sessionStorage.setItem(k, v); else sessionStorage.removeItem(k); }
    catch (e) { memory[k] = v; }
  }

  var CSS = [
    ':host{all:initial !important;display:block !important;position:fixed !important;right:0 !important;',
    'bottom:0 !important;width:0 !important;height:0 !important;z-index:2147483000 !important;',
    'visibility:visible !important;opacity:1 !important;transform:none !important}',
    '*{box-sizing:border-box;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC",',
    '"Microsoft YaHei",sans-serif;color:#1f2328;margin:0;padding:0}',
    '[hidden]{display:none !important}',
    'button{cursor:pointer;border:0;background:none}',
    ':focus-visible{outline:2px solid #f59e0b;outline-offset:2px}',
    '.bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;',
    'background:var(--accent);display:flex;align-items:center;justify-content:center;',
    'box-shadow:0 4px 14px rgba(0,0,0,.25)}',
    '.bubble svg{width:28px;height:28px;fill:var(--on-accent)}',
    '.bubble.unread::after{content:"";position:absolute;top:4px;right:4px;width:12px;height:12px;',
    'border-radius:50%;background:#e5484d;border:2px solid #fff}',
    '.panel{position:fixed;right:20px;bottom:88px;width:min(370px,calc(100vw - 24px));',
    'height:min(560px,calc(100vh - 108px));background:#fff;border-radius:12px;display:flex;',
    'flex-direction:column;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.25);overscroll-behavior:contain}',
    // A phone: the open chat is the whole screen, its bubble hidden (the header's x closes it).
    '@media (max-width:480px){.panel{inset:0;width:100%;height:100vh;height:100dvh;border-radius:0;',
    'padding:env(safe-area-inset-top) env(safe-area-inset-right) env(safe-area-inset-bottom) ',
    'env(safe-area-inset-left)}.bubble{right:12px;bottom:16px}.bubble.open{display:none}',
    'textarea{font-size:16px}}',
    'header{display:flex;align-items:center;gap:10px;padding:12px 14px;background:var(--accent)}',
    'header h2{flex:1;min-width:0;color:var(--on-accent);font-weight:600;font-size:15px;white-space:nowrap;',
    'overflow:hidden;text-overflow:ellipsis}',
    '.avatar{width:32px;height:32px;border-radius:50%;object-fit:cover;background:#fff;flex:none}',
    'header button{color:var(--on-accent);font-size:22px;line-height:1;width:32px;height:32px;border-radius:6px}',
    '.log{flex:1;overflow-y:auto;overscroll-behavior:contain;padding:12px;display:flex;flex-direction:column;',
    'gap:10px;background:#f6f7f9}',
    '.msg{max-width:88%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere}',
    '.user{align-self:flex-end;background:var(--accent)}.user,.user *{color:var(--on-accent)}',
    '.bot,.agent{align-self:flex-start;background:#fff;border:1px solid #e1e4e8}',
    '.agent{border-color:var(--accent)}',
    '.who{display:block;font-size:12px;font-weight:600;color:#57606a}',
    // An agent's message starts with their face and name: never mistaken for the assistant's.
    '.byline{display:flex;align-items:center;gap:6px;margin-bottom:4px;white-space:normal}',
    '.face{width:24px;height:24px;border-radius:50%;flex:none;object-fit:cover;display:inline-flex;',
    'align-items:center;justify-content:center;background:var(--accent);color:var(--on-accent);font-size:12px;',
    'font-weight:600;line-height:1}',
    '.typing{color:#57606a}',
    '.src{margin-top:6px;white-space:normal}',
    '.src b{display:block;font-size:12px;color:#57606a;font-weight:600}',
    '.src ul{list-style:none}.src li{font-size:13px}.src li::before{content:"\\2022  ";color:#57606a}',
    '.src a{color:var(--ink);text-decoration:underline}',
    '.fb{margin-top:6px;display:flex;align-items:center;gap:4px;white-space:normal}',
    '.fb button{display:flex;padding:4px 6px;border-radius:6px;border:1px solid #d0d7de;background:#fff}',
    '.fb svg{width:15px;height:15px;fill:#57606a}.fb .down svg{transform:rotate(180deg)}',
    '.fb button[aria-pressed="true"] svg{fill:var(--ink)}',
    '.fb button[aria-pressed="true"]{background:color-mix(in srgb,var(--accent) 16%,#fff);border-color:var(--accent)}',
    '.fb button:disabled{cursor:default;opacity:.7}',
    '.fb span{font-size:12px;color:#57606a}',
    '.notice{align-self:stretch;text-align:center;font-size:13px;color:#57606a;padding:4px 8px;',
    'border-top:1px dashed #d0d7de;border-bottom:1px dashed #d0d7de}',
    '.error{align-self:stretch;background:#fff0f0;border:1px solid #f5b5b5;color:#9a1c1c;border-radius:8px;',
    'padding:8px 11px;font-size:13px}.error *{color:#9a1c1c}',
    'form{display:flex;gap:8px;padding:10px;border-top:1px solid #e1e4e8;background:#fff}',
    'textarea{flex:1;resize:none;height:40px;max-height:120px;padding:9px 10px;border:1px solid #d0d7de;',
    'border-radius:8px;background:#fff}',
    '.suggest{align-self:stretch;display:flex;flex-wrap:wrap;gap:6px}',
    '.suggest button{padding:6px 11px;border-radius:16px;border:1px solid var(--accent);background:#fff;',
    'color:var(--ink);font-size:13px;text-align:left}',
    'form button{padding:0 14px;border-radius:8px;background:var(--accent);color:var(--on-accent);font-weight:600}',
    'form button:disabled{opacity:.6;cursor:default}',
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}'
  ].join('');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function icon(d) {
    var ns = 'http://www.w3.org/2000/svg';
    var s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    var p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    s.appendChild(p);
    return s;
  }

  // ---- DOM ---------------------------------------------------------------------------------------
  var host, root, bubble, panel, heading, closeBtn, log, live, form, input, sendBtn, offers;
  var lastReply = null;  // the newest reply: opening the chat shows its start
  var busy = false, started = false, pollTimer = null, polling = false, handedOff = false;
  var waiting = [];  // messages sent while a reply streams: shown at once, sent in order after it
  var seen = {};
  var sessionId = load(STORE);

  function build() {
    host = document.createElement('lepton-chat');
    root = host.attachShadow({ mode: 'open' });
    var style = document.createElement('style');
    var ink = onAccent(ACCENT);
    // The accent as custom properties on the host (!important: the page's own rules for the host lose).
    style.textContent = ':host{--accent:' + ACCENT + ' !important;--on-accent:' + ink + ' !important;' +
      '--ink:' + (ink === '#fff' ? ACCENT : '#1f2328') + ' !important}' + CSS;
    root.appendChild(style);

    bubble = el('button', 'bubble');
    bubble.type = 'button';
    bubble.setAttribute('aria-expanded', 'false');
    bubble.setAttribute('aria-controls', 'lepton-panel');
    bubble.appendChild(icon('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z'));

    panel = el('section', 'panel');
    panel.id = 'lepton-panel';
    panel.setAttribute('role', 'dialog');
    panel.hidden = true;
    var head = el('header');
    heading = el('h2');
    heading.id = 'lepton-title';
    panel.setAttribute('aria-labelledby', 'lepton-title');
    closeBtn = el('button', 'close', '\u00d7');
    closeBtn.type = 'button';
    if (AVATAR) {
      var avatar = el('img', 'avatar');
      avatar.alt = '';
      avatar.referrerPolicy = 'no-referrer';
      avatar.addEventListener('error', function () { avatar.remove(); });
      avatar.src = AVATAR;
      head.appendChild(avatar);
    }
    head.appendChild(heading);
    head.appendChild(closeBtn);

    log = el('div', 'log');
    log.setAttribute('role', 'log');
    log.tabIndex = 0;
    live = el('div', 'sr');
    live.setAttribute('aria-live', 'polite');
    live.setAttribute('aria-atomic', 'true');

    form = el('form');
    input = el('textarea');
    input.rows = 1;
    input.maxLength = 4000;
    sendBtn = el('button');
    sendBtn.type = 'submit';
    form.appendChild(input);
    form.appendChild(sendBtn);

    panel.appendChild(head);
    panel.appendChild(log);
    panel.appendChild(form);
    root.appendChild(bubble);
    root.appendChild(panel);
    root.appendChild(live);
    document.body.appendChild(host);
    labels();

    bubble.addEventListener('click', function () { if (panel.hidden) open(); else close(); });
    closeBtn.addEventListener('click', close);
    root.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && !panel.hidden) { e.preventDefault(); close(); }
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
    });
    form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });

    if (phone) {
      if (phone.addEventListener) phone.addEventListener('change', holdPage);
      else if (phone.addListener) phone.addListener(holdPage);
    }
    if (sessionId) restore();
  }

  function labels() {
    panel.setAttribute('lang', lang === 'zh' ? 'zh-CN' : 'en');
    heading.textContent = TITLE || t('title');
    bubble.setAttribute('aria-label', bubble.classList.contains('unread') ? t('openNew') : t('open'));
    closeBtn.setAttribute('aria-label', t('close'));
    log.setAttribute('aria-label', t('log'));
    input.placeholder = t('placeholder');
    input.setAttribute('aria-label', t('input'));
    sendBtn.textContent = t('send');
  }
  function setLang(code) {
    var l = pickLang(code);
    if (l && l !== lang) { lang = l; labels(); }
  }

  function open() {
    panel.hidden = false;
    bubble.classList.add('open');
    bubble.setAttribute('aria-expanded', 'true');
    bubble.classList.remove('unread');
    holdPage();
    labels();
    if (!started && !log.firstChild) greet();
    started = true;
    probe();
    input.focus();
    if (lastReply && lastReply === log.lastElementChild) reveal(lastReply);
    else scroll();
  }
  function close() {
    panel.hidden = true;
    bubble.classList.remove('open');
    bubble.setAttribute('aria-expanded', 'false');
    holdPage();
    bubble.focus();
  }

  // On a phone the open chat covers the screen: the page behind it must not scroll (restored on close).
  var phone = window.matchMedia ? window.matchMedia('(max-width: 480px)') : null;
  var pageStyle = null;
  function holdPage() {
    var hold = !panel.hidden && !!phone && phone.matches;
    var nodes = [document.documentElement, document.body];
    if (hold && !pageStyle) {
      pageStyle = nodes.map(function (n) {
        var v = [n.style.getPropertyValue('overflow'), n.style.getPropertyPriority('overflow')];
        n.style.setProperty('overflow', 'hidden', 'important');
        return v;
      });
    } else if (!hold && pageStyle) {
      nodes.forEach(function (n, i) {
        if (pageStyle[i][0]) n.style.setProperty('overflow', pageStyle[i][0], pageStyle[i][1]);
        else n.style.removeProperty('overflow');
      });
      pageStyle = null;
    }
  }

  // The greeting in the widget's language, and the suggested questions as buttons that ask them.
  function greet() {
    say(greeting());
    var list = suggestions();
    if (!list.length) return;
    offers = el('div', 'suggest');
    list.forEach(function (q) {
      var b = el('button', '', q);
      b.type = 'button';
      b.addEventListener('click', function () { ask(q); input.focus(); });
      offers.appendChild(b);
    });
    add(offers);
  }

  function scroll() { log.scrollTop = log.scrollHeight; }
  // Show reply `node` from its start: the log's bottom, or the reply's first line when it is taller than the log.
  function reveal(node) {
    lastReply = node;
    if (panel.hidden) return;
    var top = node.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 8;
    log.scrollTop = Math.min(top, log.scrollHeight - log.clientHeight);
  }
  function announce(text) { live.textContent = ''; setTimeout(function () { live.textContent = text; }, 30); }
  function add(node) { log.appendChild(node); scroll(); return node; }

  function say(text) { return add(el('div', 'msg bot', text)); }
  function userMsg(text) {
    var m = el('div', 'msg user');
    m.appendChild(el('span', 'sr', t('you') + ': '));
    m.appendChild(document.createTextNode(text));
    return add(m);
  }
  // An agent's face: their picture (`avatar` from the server: [brand] agent_avatars), else their initial.
  function initial(name) {
    var chars = Array.from(String(name));
    for (var i = 0; i < chars.length; i++) if (/[\p{L}\p{N}]/u.test(chars[i])) return chars[i].toUpperCase();
    return '?';
  }
  function badge(name) {
    var b = el('span', 'face', initial(name));
    b.setAttribute('aria-hidden', 'true');
    return b;
  }
  function face(name, avatar) {
    var src = picture(avatar);
    if (!src) return badge(name);
    var img = el('img', 'face');
    img.alt = '';
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('error', function () { img.replaceWith(badge(name)); });
    img.src = src;
    return img;
  }
  function botMsg(kind, name, avatar) {
    var m = el('div', 'msg ' + (kind || 'bot'));
    if (kind === 'agent') {
      var by = el('div', 'byline');
      by.appendChild(face(name || t('agent'), avatar));
      by.appendChild(el('span', 'who', name || t('agent')));
      m.appendChild(by);
    }
    var text = el('div', 'text');
    m.appendChild(text);
    add(m);
    return { node: m, text: text };
  }
  function notice(text) { announce(text); return add(el('div', 'notice', text)); }
  function errorBox(text, detail) {
    var box = el('div', 'error', text);
    box.setAttribute('role', 'alert');
    if (detail && detail !== text) { box.appendChild(document.createElement('br')); box.appendChild(el('small', '', detail)); }
    return add(box);
  }

  function sources(m, list, language) {
    if (!list || !list.length) return;
    var box = el('div', 'src');
    box.appendChild(el('b', '', (STRINGS[pickLang(language) || lang]).sources));
    var ul = el('ul');
    list.forEach(function (s) {
      if (!s) return;
      var li = el('li');
      // The public page: `url`, or a `uri` that is one (older servers); anything else is only a name.
      var href = String(s.url || s.uri || ''), title = String(s.title || s.uri || s.id || '');
      if (!/^https?:\/\//i.test(href)) href = /^https?:\/\//i.test(String(s.uri || '')) ? String(s.uri) : '';
      if (href) {
        var a = el('a', '', title);
        a.href = href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        if (s.snippet) a.title = String(s.snippet);
        li.appendChild(a);
      } else {
        li.textContent = title;
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
    m.node.appendChild(box);
  }

  function feedback(m, messageId) {
    if (!messageId) return;
    var bar = el('div', 'fb');
    var up = el('button', 'up'), down = el('button', 'down');
    var status = el('span');
    status.setAttribute('aria-live', 'polite');
    [[up, 'up'], [down, 'down']].forEach(function (pair) {
      var b = pair[0];
      b.type = 'button';
      b.appendChild(icon(THUMB));
      b.setAttribute('aria-label', t(pair[1]));
      b.title = t(pair[1]);
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', function () {
        up.disabled = down.disabled = true;
        b.setAttribute('aria-pressed', 'true');
        status.textContent = '';
        request('/v1/feedback', { method: 'POST', body: JSON.stringify({ message_id: messageId, rating: pair[1] }) })
          .then(function (res) {
            if (!res.ok) throw new Error(res.status);
            status.textContent = t('thanks');
          })
          .catch(function () {
            up.disabled = down.disabled = false;
            b.setAttribute('aria-pressed', 'false');
            status.textContent = t('fbError');
          });
      });
      bar.appendChild(b);
    });
    bar.appendChild(status);
    m.node.appendChild(bar);
  }

  // One reply (from /v1/chat or a restored turn) into message `m`.
  function render(m, r, withFeedback) {
    m.text.classList.remove('typing');
    m.text.textContent = String(r.reply == null ? '' : r.reply);
    if (r.language) m.node.setAttribute('lang', String(r.language));
    sources(m, r.sources, r.language);
    if (withFeedback) feedback(m, r.message_id || r.id);
    reveal(m.node);
  }

  // ---- a server still starting ------------------------------------------------------------------------
  // It says how far along it is ("Getting ready… loading the knowledge base (25 %)", in the widget's language):
  // in a notice when the chat opens, then in the place of each reply that waits for it. A question asked
  // meanwhile is held (the box stays usable) and sent once /healthz says ready.
  var readyWait = null, startNote = null, holding = [], readySeen = false;
  function readyText(info) {
    var mine = READY[lang] || {}, stages = mine.stages || {}, stage = text(info && info.stage);
    var pct = Math.round(100 * Math.min(1, Math.max(0, Number(info && info.progress) || 0)));
    return String(mine.text || t('ready')).replace('{stage}', stages[stage] || stage).replace('{percent}', pct);
  }
  function showReady(info) {
    var line = readyText(info);
    holding.forEach(function (m) { m.text.textContent = line; });
    if (holding.length) { if (startNote) { startNote.remove(); startNote = null; } }
    else if (startNote) startNote.textContent = line;
    else startNote = notice(line);
  }
  function health() {
    return fetch(API + '/healthz', { credentials: 'omit', mode: 'cors', cache: 'no-store' }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.ok) readySeen = true;
        return { ok: res.ok, body: body || {} };
      });
    });
  }
  // One poll for all who wait: resolves true once the server is ready, false after READY_WAIT_MS.
  function whenReady() {
    if (readyWait) return readyWait;
    var deadline = Date.now() + READY_WAIT_MS;
    readyWait = new Promise(function (resolve) {
      function check() {
        health().then(function (h) {
          if (!h.ok && h.body.stage) showReady(h.body);
          return h.ok;
        }, function () { return false; }).then(function (ready) {
          if (!ready && Date.now() < deadline) { setTimeout(check, READY_POLL_MS); return; }
          readyWait = null;
          if (startNote) { startNote.remove(); startNote = null; }
          resolve(ready);
        });
      }
      setTimeout(check, READY_POLL_MS);
    });
    return readyWait;
  }
  // When the chat opens: is the server still starting? Then say so until it is ready.
  function probe() {
    if (readySeen || readyWait) return;
    health().then(function (h) {
      if (!h.ok && h.body.status === 'starting') { showReady(h.body); whenReady(); }
    }, function () {});
  }

  // ---- network -------------------------------------------------------------------------------------
  function request(path, init) {
    init = init || {};
    var headers = { Accept: 'application/json' };
    if (init.body) headers['Content-Type'] = 'application/json';
    if (KEY) headers.Authorization = 'Bearer ' + KEY;
    for (var k in init.headers || {}) headers[k] = init.headers[k];
    init.headers = headers;
    init.credentials = 'omit';
    init.mode = 'cors';
    return fetch(API + path, init);
  }

  // A fresh idempotency key per message (`client_message_id`, [A-Za-z0-9_-]{16,128}): a retry of the same body
  // gets the turn the server already answered instead of a second one.
  function messageId() {
    var c = window.crypto, id = '';
    if (c && c.randomUUID) return c.randomUUID().replace(/-/g, '');
    if (c && c.getRandomValues) {
      var bytes = c.getRandomValues(new Uint8Array(16));
      for (var i = 0; i < bytes.length; i++) id += (bytes[i] + 256).toString(16).slice(1);
      return id;
    }
    while (id.length < 32) id += Math.random().toString(36).slice(2);
    return id.slice(0, 32);
  }

  function problem(status, err) {
    if (status === 401 || status === 403) return t('auth');
    if (status === 413 || (err && err.code === 'message_too_long')) return t('tooLong');
    if (status === 429) return t('rate');
    if (status === 503) return t('starting');
    if (status >= 500) return t('server');
    return t('invalid');
  }

  // Server-sent events from a fetch body: calls onEvent(name, data) per event.
  function readEvents(res, onEvent) {
    var reader = res.body.getReader(), decoder = new TextDecoder(), buf = '';
    function dispatch(block) {
      var name = 'message', data = [];
      block.split('\n').forEach(function (line) {
        if (!line || line.charAt(0) === ':') return;
        var i = line.indexOf(':');
        var field = i < 0 ? line : line.slice(0, i), value = i < 0 ? '' : line.slice(i + 1);
        if (value.charAt(0) === ' ') value = value.slice(1);
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      });
      if (data.length) onEvent(name, data.join('\n'));
    }
    function pump() {
      return reader.read().then(function (chunk) {
        buf += decoder.decode(chunk.value || new Uint8Array(0), { stream: !chunk.done });
        var hold = !chunk.done && buf.slice(-1) === '\r';
        var text = (hold ? buf.slice(0, -1) : buf).replace(/\r\n?/g, '\n');
        var i;
        while ((i = text.indexOf('\n\n')) >= 0) {
          dispatch(text.slice(0, i));
          text = text.slice(i + 2);
        }
        buf = text + (hold ? '\r' : '');
        if (chunk.done) { if (buf.trim()) dispatch(buf); return; }
        return pump();
      });
    }
    return pump();
  }

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    ask(text);
  }
  // A question from the box or a suggestion: the suggestions go once anything is asked.
  function ask(text) {
    if (offers) { offers.remove(); offers = null; }
    if (busy) { waiting.push([text, userMsg(text)]); return; }
    send(text);
  }

  // One turn; `shown`: the message's node, already on screen (it was sent while a reply streamed).
  function send(text, shown) {
    busy = true;
    log.setAttribute('aria-busy', 'true');
    var mine = shown || userMsg(text);
    var m = botMsg();
    if (mine.nextSibling !== m.node) log.insertBefore(m.node, mine.nextSibling);  // right under its question
    m.text.classList.add('typing');
    m.text.textContent = '\u2026';
    var done = false, draft = '', tries = 0;
    // The same body on every try: a retry after a lost reply (a replica gone, a gateway's 502/503/504) carries
    // the same client_message_id, so a message already answered comes back as it was, never answered twice.
    var body = JSON.stringify({
      message: text, session_id: sessionId || null, stream: true, client_message_id: messageId()
    });
    function fail(message, detail) {
      done = true;
      m.node.remove();
      errorBox(message, detail);
      announce(message);
    }
    function finish(r) {
      done = true;
      if (r.session_id) { sessionId = String(r.session_id); save(STORE, sessionId); }
      if (r.message_id) seen[r.message_id] = true;
      setLang(r.language);
      if (!r.reply) { m.node.remove(); startHandoff(true); return; }  // logged for the agent, nothing to say
      render(m, r, true);
      announce(t('bot') + ': ' + m.text.textContent);
      if (panel.hidden) { bubble.classList.add('unread'); labels(); }
      if (r.route === 'handoff') startHandoff();
    }
    // The server is still starting (503 "starting", with its stage): the reply's place says how far along it
    // is, and the question goes again once the server is ready (the ones after it wait their turn).
    function hold(err) {
      holding.push(m);
      showReady(err);
      announce(m.text.textContent);
      return whenReady().then(function (ready) {
        holding.splice(holding.indexOf(m), 1);
        if (!ready) { fail((READY[lang] || {}).gaveUp || t('gaveUp')); return; }
        m.text.textContent = '\u2026';
        tries = 0;
        return post();
      });
    }
    // Once more, with the same body; `message` is the error shown when that was the second try already.
    function again(message, detail) {
      if (tries > 1) { fail(message, detail); return; }
      draft = '';
      m.text.classList.add('typing');
      m.text.textContent = '\u2026';
      return post();
    }
    function post() {
      tries += 1;
      return request('/v1/chat', {
        method: 'POST',
        headers: { Accept: 'text/event-stream' },
        body: body
      }).then(answer, function () { return again(t('network')); });
    }
    function answer(res) {
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          var err = (body && body.error) || {};
          if (res.status === 503 && err.code === 'starting') return hold(err);
          if (res.status === 502 || res.status === 503 || res.status === 504) return again(problem(res.status, err));
          fail(problem(res.status, err), res.status < 500 && res.status !== 401 && res.status !== 403 ? err.message : '');
        });
      }
      if ((res.headers.get('content-type') || '').indexOf('event-stream') < 0 || !res.body) {
        return res.json().then(finish);
      }
      return readEvents(res, function (name, data) {
        if (done) return;
        var value = JSON.parse(data);
        if (name === 'token') {
          draft += value && value.text != null ? String(value.text) : '';
          m.text.classList.remove('typing');
          m.text.textContent = draft;
          reveal(m.node);  // follows the reply down, never past its start
        } else if (name === 'final') {
          finish(value);
        } else if (name === 'error') {
          fail(t('server'), value && value.error && value.error.message);
        }
      }).then(function () {
        if (!done) return again(t('interrupted'));  // the stream ended without its reply
      }, function () {
        if (!done) return again(t('interrupted'));  // the connection broke mid-stream (a replica gone)
      });
    }
    return post().catch(function () {
      if (!done) fail(draft ? t('interrupted') : t('server'));
    }).then(function () {
      busy = false;
      log.removeAttribute('aria-busy');
      var next = waiting.shift();
      if (next) send(next[0], next[1]);  // the next one continues the same session
    });
  }

  // ---- session history and handoff -------------------------------------------------------------
  // The agent's name as the server gives it (`messages[].agent`); the stored default "agent" is no name.
  function agentName(v) {
    v = text(v).slice(0, 60);
    return v.toLowerCase() === 'agent' ? '' : v;
  }
  function isAgent(x) {
    return x && (x.route === 'agent' || x.role === 'agent' || x.author === 'agent' || x.sender === 'agent');
  }
  function showTurns(data, initial) {
    var fresh = false;
    (data.turns || []).forEach(function (turn) {
      if (!turn || seen[turn.id]) return;
      seen[turn.id] = true;
      var agent = isAgent(turn), name = agentName(turn.agent);
      if (turn.message && !agent) userMsg(String(turn.message));
      if (turn.reply) {
        var m = botMsg(agent ? 'agent' : 'bot', name, turn.avatar);
        render(m, turn, !agent);
        if (agent) { fresh = true; announce((name || t('agent')) + ': ' + m.text.textContent); }
      }
      if (initial && turn.route === 'handoff') notice(t('handoff'));
    });
    (data.messages || []).forEach(function (msg) {
      if (!msg || !isAgent(msg) || seen[msg.id]) return;
      seen[msg.id] = true;
      var name = agentName(msg.agent);
      var m = botMsg('agent', name, msg.avatar);
      render(m, { reply: msg.text != null ? msg.text : msg.body != null ? msg.body : msg.reply || msg.message }, false);
      fresh = true;
      announce((name || t('agent')) + ': ' + m.text.textContent);
    });
    if (fresh && panel.hidden) { bubble.classList.add('unread'); labels(); }
  }

  function restore() {
    request('/v1/sessions/' + encodeURIComponent(sessionId)).then(function (res) {
      if (res.status === 404) { sessionId = null; save(STORE, null); return; }
      if (!res.ok) return;
      return res.json().then(function (data) {
        started = true;
        var last = (data.turns || []).slice(-1)[0];
        if (last) setLang(last.language);
        showTurns(data, true);
        if (data.status === 'handoff') startHandoff(true);
      });
    }).catch(function () {});
  }

  function startHandoff(quiet) {
    if (!handedOff && !quiet) notice(t('handoff'));
    handedOff = true;
    if (!pollTimer) pollTimer = setInterval(poll, POLL_MS);
  }
  function poll() {
    if (polling || busy || !sessionId || document.hidden) return;
    polling = true;
    request('/v1/sessions/' + encodeURIComponent(sessionId)).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (data) {
      if (!data || busy) return;
      showTurns(data, false);
      if (data.status && data.status !== 'handoff') {
        clearInterval(pollTimer);
        pollTimer = null;
        handedOff = false;  // the agent's closing message came with the messages above
      }
    }).catch(function () {}).then(function () { polling = false; });
  }

  function init() {
    if (document.querySelector('lepton-chat')) return;
    build();
  }
  if (document.body) init();
  else document.addEventListener('DOMContentLoaded', init);
})();
