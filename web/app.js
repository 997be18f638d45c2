// Duet's browser client: microphone -> input_audio_buffer.append, answers played as they stream,
// live transcripts, barge-in with conversation.item.truncate, per-turn latency, session settings.
// Must never put server text into the page as HTML, send the API key anywhere but this server's
// WebSocket, or keep playing an answer after the user starts speaking.
"use strict";

(() => {
  const WIRE_RATE = 24000; // pcm16 / audio/pcm on the wire, both directions

  const $ = (id) => document.getElementById(id);
  const ui = {
    start: $("start"),
    stop: $("stop"),
    apply: $("apply"),
    form: $("settings"),
    voice: $("voice"),
    turn: $("turn"),
    instructions: $("instructions"),
    apikey: $("apikey"),
    status: $("status"),
    meter: $("meter").firstElementChild,
    log: $("log"),
    announce: $("announce"),
  };

  // --- state ---------------------------------------------------------------------------------

  let ws = null;
  let captureCtx = null;
  let playCtx = null;
  let micStream = null;
  let captureNode = null;
  let playerNode = null;
  let instructionsTouched = false;

  const entries = new Map(); // item_id -> entry (see makeEntry)
  const silenced = new Set(); // assistant items whose remaining audio must not be played
  const truncated = new Set(); // assistant items this page has truncated
  let streamingAtInterrupt = null; // the item still streaming when the user barged in
  let lastUser = null; // the newest user entry, to link its answer to it
  let response = null; // {id, itemId, firstAudio} of the response in progress
  let playing = false; // the player is sounding an answer
  let speechStoppedAt = null; // performance.now() when the server said the user stopped

  const counts = {
    userTranscripts: 0,
    assistantTranscripts: 0,
    audioChunksReceived: 0,
    audioChunksPlayed: 0,
    audioMsPlayed: 0,
    turns: 0,
    interruptions: 0,
    errors: 0,
  };

  function setCount(name, value) {
    counts[name] = value;
    ui.status.dataset[name] = String(value);
  }

  function bump(name) {
    setCount(name, counts[name] + 1);
  }

  function setState(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
    document.body.dataset.state = state;
  }

  // --- conversation log ------------------------------------------------------------------------

  function makeEntry(id, role) {
    const li = document.createElement("li");
    li.className = role;
    if (id) li.dataset.itemId = id;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You" : role === "assistant" ? "Duet" : "Note";
    const text = document.createElement("p");
    text.className = "text";
    const meta = document.createElement("p");
    meta.className = "meta";
    li.append(who, text, meta);
    ui.log.append(li);
    li.scrollIntoView({ block: "nearest" });
    const entry = { id, role, li, textEl: text, metaEl: meta, text: "", done: false, answer: null };
    if (id) entries.set(id, entry);
    return entry;
  }

  function entryFor(id, role) {
    let e = id ? entries.get(id) : null;
    if (!e) {
      e = makeEntry(id, role);
      if (role === "user") {
        lastUser = e;
      } else if (role === "assistant" && lastUser && !lastUser.answer) {
        lastUser.answer = e;
      }
    }
    return e;
  }

  function showText(entry, text, partial) {
    entry.text = text;
    entry.textEl.textContent = text;
    entry.li.classList.toggle("partial", partial);
  }

  function note(text, kind) {
    const e = makeEntry(null, "note");
    if (kind) e.li.classList.add(kind);
    showText(e, text, false);
    ui.announce.textContent = text;
  }

  // --- audio helpers -------------------------------------------------------------------------

  function toBase64(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  function pcm16ToFloat(b64) {
    const s = atob(b64);
    const n = s.length >> 1;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = s.charCodeAt(2 * i) | (s.charCodeAt(2 * i + 1) << 8);
      if (v >= 0x8000) v -= 0x10000;
      out[i] = v / 32768;
    }
    return out;
  }

  // Only when the browser refused a 24 kHz playback context.
  function resample(x, from, to) {
    if (from === to || x.length === 0) return x;
    const n = Math.round((x.length * to) / from);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const p = (i * from) / to;
      const k = Math.floor(p);
      const a = x[Math.min(k, x.length - 1)];
      const b = x[Math.min(k + 1, x.length - 1)];
      out[i] = a + (b - a) * (p - k);
    }
    return out;
  }

  function playedMs(samples) {
    return Math.floor((samples * 1000) / playCtx.sampleRate);
  }

  // --- sending ---------------------------------------------------------------------------------

  function send(event) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(event));
  }

  function sessionConfig() {
    const turn = { type: ui.turn.value, create_response: true, interrupt_response: true };
    if (turn.type === "semantic_vad") turn.eagerness = "auto";
    const session = {
      type: "realtime",
      output_modalities: ["audio"],
      audio: {
        input: {
          format: { type: "audio/pcm", rate: WIRE_RATE },
          transcription: { model: "whisper-1" },
          turn_detection: turn,
        },
        output: { format: { type: "audio/pcm", rate: WIRE_RATE }, voice: ui.voice.value },
      },
    };
    const instructions = ui.instructions.value.trim();
    if (instructions) session.instructions = instructions;
    return session;
  }

  function onCaptured(buffer) {
    const pcm = new Int16Array(buffer);
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
    const rms = Math.sqrt(sum / Math.max(1, pcm.length)) / 32768;
    ui.meter.style.width = `${Math.min(100, Math.round(Math.sqrt(rms) * 200))}%`;
    send({ type: "input_audio_buffer.append", audio: toBase64(new Uint8Array(buffer)) });
  }

  // --- interruption ----------------------------------------------------------------------------

  // The user spoke: stop the answer now, then tell the server how much of it was heard.
  function interrupt() {
    if (!playerNode) return;
    streamingAtInterrupt = response && response.itemId ? response.itemId : null;
    if (streamingAtInterrupt) silenced.add(streamingAtInterrupt);
    playerNode.port.postMessage({ type: "clear" });
  }

  function onCleared(msg) {
    updatePlayed(msg);
    const item = msg.item;
    if (!item || truncated.has(item)) return;
    const stillStreaming = streamingAtInterrupt === item;
    if (!msg.hadUnplayed && !stillStreaming) return; // the answer had already been heard in full
    silenced.add(item);
    truncated.add(item);
    const ms = playedMs(msg.itemPlayed);
    send({ type: "conversation.item.truncate", item_id: item, content_index: 0, audio_end_ms: ms });
    bump("interruptions");
    const e = entries.get(item);
    if (e) {
      e.li.classList.add("interrupted");
      e.interruptedAt = ms;
      showMeta(e);
    }
  }

  // --- playback reports ------------------------------------------------------------------------

  function updatePlayed(msg) {
    if (msg.chunksStarted !== counts.audioChunksPlayed) setCount("audioChunksPlayed", msg.chunksStarted);
    const ms = playedMs(msg.samplesPlayed);
    if (ms !== counts.audioMsPlayed) setCount("audioMsPlayed", ms);
  }

  function onPlayer(msg) {
    if (!playCtx) return; // a report from a player that was stopped
    if (msg.type === "cleared") {
      playing = false;
      document.body.classList.remove("speaking");
      onCleared(msg);
      return;
    }
    updatePlayed(msg);
    if (msg.type === "started") {
      playing = true;
      document.body.classList.add("speaking");
    } else if (msg.type === "drained") {
      playing = false;
      document.body.classList.remove("speaking");
      if (!response && ui.status.dataset.state === "answering") setState("listening", "Listening. Speak any time.");
    }
  }

  // --- latency ---------------------------------------------------------------------------------

  function showMeta(entry) {
    const parts = [];
    if (entry.trace) {
      const t = entry.trace;
      if (typeof t.voice_to_voice_ms === "number") {
        parts.push(`voice-to-voice ${Math.round(t.voice_to_voice_ms)} ms`);
      }
      const end = typeof t.voice_end_ms === "number" ? t.voice_end_ms : t.speech_end_ms;
      if (typeof t.first_token_ms === "number" && typeof end === "number") {
        const ms = Math.round(t.first_token_ms - end);
        parts.push(ms >= 0 ? `first token ${ms} ms` : "first token before you finished (speculative)");
      }
      if (parts.length) parts[parts.length - 1] += " (server trace)";
    }
    if (typeof entry.clientLatency === "number") {
      parts.push(`${Math.round(entry.clientLatency)} ms from speech_stopped to first audio (measured here)`);
    }
    if (typeof entry.interruptedAt === "number") {
      parts.push(`interrupted after ${(entry.interruptedAt / 1000).toFixed(1)} s`);
    }
    entry.metaEl.textContent = parts.join(" · ");
    entry.li.dataset.latencyMs = entry.trace && typeof entry.trace.voice_to_voice_ms === "number"
      ? String(Math.round(entry.trace.voice_to_voice_ms))
      : typeof entry.clientLatency === "number" ? String(Math.round(entry.clientLatency)) : "";
  }

  function onTrace(ev) {
    const trace = ev.trace && typeof ev.trace === "object" ? ev.trace : {};
    let e = ev.item_id ? entries.get(ev.item_id) : null;
    if (e && e.role === "user") e = e.answer;
    if (!e) {
      const answers = [...entries.values()].filter((x) => x.role === "assistant");
      e = answers[answers.length - 1];
    }
    if (!e) return;
    e.trace = trace;
    showMeta(e);
  }

  // --- server events ---------------------------------------------------------------------------

  function onTranscriptDelta(ev) {
    const e = entryFor(ev.item_id, "assistant");
    if (e.done) return;
    showText(e, e.text + (ev.delta || ""), true);
  }

  function onTranscriptDone(ev, text) {
    const e = entryFor(ev.item_id, "assistant");
    if (!e.done) {
      e.done = true;
      bump("assistantTranscripts");
    }
    showText(e, typeof text === "string" ? text : e.text, false);
    ui.announce.textContent = `Duet: ${e.text}`;
  }

  function onAudioDelta(ev) {
    bump("audioChunksReceived");
    if (silenced.has(ev.item_id) || !playerNode || !ev.delta) return;
    if (response && !response.firstAudio) {
      response.firstAudio = true;
      if (speechStoppedAt !== null) {
        const e = entryFor(ev.item_id, "assistant");
        e.clientLatency = performance.now() - speechStoppedAt;
        speechStoppedAt = null;
        showMeta(e);
      }
    }
    let samples = pcm16ToFloat(ev.delta);
    samples = resample(samples, WIRE_RATE, playCtx.sampleRate);
    playerNode.port.postMessage({ type: "push", samples, item: ev.item_id }, [samples.buffer]);
  }

  function handle(ev) {
    switch (ev.type) {
      case "session.created":
        if (!instructionsTouched && !ui.instructions.value && ev.session && ev.session.instructions) {
          ui.instructions.value = ev.session.instructions;
        }
        send({ type: "session.update", session: sessionConfig() });
        break;
      case "session.updated":
        ui.status.dataset.sessionReady = "1";
        maybeListening();
        break;
      case "input_audio_buffer.speech_started":
        interrupt();
        entryFor(ev.item_id, "user").li.classList.add("partial");
        setState("hearing", "Hearing you…");
        break;
      case "input_audio_buffer.speech_stopped":
        speechStoppedAt = performance.now();
        setState("thinking", "Thinking…");
        break;
      case "input_audio_buffer.committed":
        entryFor(ev.item_id, "user");
        break;
      case "conversation.item.input_audio_transcription.delta": {
        const e = entryFor(ev.item_id, "user");
        if (!e.done) showText(e, e.text + (ev.delta || ""), true);
        break;
      }
      case "conversation.item.input_audio_transcription.completed": {
        const e = entryFor(ev.item_id, "user");
        if (!e.done) {
          e.done = true;
          bump("userTranscripts");
        }
        showText(e, ev.transcript || "", false);
        ui.announce.textContent = `You said: ${e.text}`;
        if (ev.duet && ev.duet.annotation) e.metaEl.textContent = ev.duet.annotation;
        break;
      }
      case "conversation.item.input_audio_transcription.failed": {
        const e = entryFor(ev.item_id, "user");
        showText(e, "(not understood)", false);
        break;
      }
      case "response.created":
        response = { id: ev.response && ev.response.id, itemId: null, firstAudio: false };
        setState("answering", "Answering…");
        break;
      case "response.output_item.added":
        if (ev.item && ev.item.role === "assistant") {
          entryFor(ev.item.id, "assistant");
          if (response) response.itemId = ev.item.id;
        }
        break;
      case "response.output_audio_transcript.delta":
      case "response.audio_transcript.delta":
      case "response.output_text.delta":
      case "response.text.delta":
        onTranscriptDelta(ev);
        break;
      case "response.output_audio_transcript.done":
      case "response.audio_transcript.done":
        onTranscriptDone(ev, ev.transcript);
        break;
      case "response.output_text.done":
      case "response.text.done":
        onTranscriptDone(ev, ev.text);
        break;
      case "response.output_audio.delta":
      case "response.audio.delta":
        onAudioDelta(ev);
        break;
      case "response.done": {
        const r = ev.response || {};
        if (r.status && r.status !== "completed") {
          const e = response && response.itemId ? entries.get(response.itemId) : null;
          if (e) e.li.classList.add("interrupted");
        }
        response = null;
        bump("turns");
        if (!playing && ui.status.dataset.state === "answering") setState("listening", "Listening. Speak any time.");
        break;
      }
      case "conversation.item.truncated": {
        const e = entries.get(ev.item_id);
        if (e) {
          e.li.classList.add("interrupted");
          e.interruptedAt = ev.audio_end_ms;
          showMeta(e);
        }
        break;
      }
      case "duet.latency_trace":
        onTrace(ev);
        break;
      case "error": {
        bump("errors");
        const err = ev.error || {};
        note(`Server error: ${err.message || "unknown"}${err.code ? ` (${err.code})` : ""}`, "error");
        break;
      }
      default:
        break; // everything else (items, buffers, rate limits) needs no display
    }
  }

  // Listening once both the session is configured and the microphone runs.
  function maybeListening() {
    if (ui.status.dataset.state === "connecting" && ui.status.dataset.sessionReady === "1" && captureNode) {
      setState("listening", "Listening. Speak any time.");
    }
  }

  // --- start and stop --------------------------------------------------------------------------

  function connect() {
    return new Promise((resolve, reject) => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const protocols = ["realtime"];
      const key = ui.apikey.value.trim();
      if (key) protocols.push(`openai-insecure-api-key.${key}`);
      const socket = new WebSocket(`${scheme}://${location.host}/v1/realtime`, protocols);
      let opened = false;
      socket.onopen = () => {
        opened = true;
        resolve(socket);
      };
      socket.onerror = () => {
        if (!opened) reject(new Error("could not connect to the server (is an API key needed?)"));
      };
      socket.onmessage = (m) => {
        if (typeof m.data !== "string") return;
        let ev;
        try {
          ev = JSON.parse(m.data);
        } catch {
          return;
        }
        if (ev && typeof ev.type === "string") handle(ev);
      };
      socket.onclose = (e) => {
        if (ws !== socket) return;
        note(`Connection closed${e.reason ? `: ${e.reason}` : ""} (${e.code}).`, e.code === 1000 ? "" : "error");
        stop();
      };
    });
  }

  async function start() {
    ui.start.disabled = true;
    setState("connecting", "Connecting…");
    try {
      // Both contexts are made inside the click, so the browser lets them run.
      captureCtx = new AudioContext();
      try {
        playCtx = new AudioContext({ sampleRate: WIRE_RATE, latencyHint: "interactive" });
      } catch {
        playCtx = new AudioContext({ latencyHint: "interactive" });
      }
      await Promise.all([
        captureCtx.audioWorklet.addModule("audio-worklet.js"),
        playCtx.audioWorklet.addModule("audio-worklet.js"),
      ]);
      playerNode = new AudioWorkletNode(playCtx, "duet-player", {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
      });
      playerNode.port.onmessage = (e) => onPlayer(e.data);
      playerNode.connect(playCtx.destination);

      ws = await connect();

      micStream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      const source = captureCtx.createMediaStreamSource(micStream);
      // Two low-pass sections keep everything above 24 kHz's Nyquist out of the downsampler.
      let node = source;
      for (let i = 0; i < 2; i++) {
        const lp = captureCtx.createBiquadFilter();
        lp.type = "lowpass";
        lp.frequency.value = Math.min(10500, captureCtx.sampleRate / 2 - 100);
        lp.Q.value = Math.SQRT1_2;
        node.connect(lp);
        node = lp;
      }
      captureNode = new AudioWorkletNode(captureCtx, "duet-capture", { numberOfOutputs: 1 });
      captureNode.port.onmessage = (e) => onCaptured(e.data);
      node.connect(captureNode);
      // A silent path to the destination keeps the capture node pulled in every browser.
      const mute = captureCtx.createGain();
      mute.gain.value = 0;
      captureNode.connect(mute);
      mute.connect(captureCtx.destination);
      await Promise.all([captureCtx.resume(), playCtx.resume()]);

      ui.stop.disabled = false;
      ui.apply.disabled = false;
      maybeListening();
    } catch (err) {
      note(`Could not start: ${err && err.message ? err.message : err}`, "error");
      stop();
      setState("error", "Could not start.");
    }
  }

  function stop() {
    const socket = ws;
    ws = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "page stopped");
    if (captureNode) captureNode.port.postMessage({ type: "stop" });
    if (micStream) micStream.getTracks().forEach((t) => t.stop());
    for (const ctx of [captureCtx, playCtx]) {
      if (ctx && ctx.state !== "closed") ctx.close().catch(() => {});
    }
    captureCtx = playCtx = micStream = captureNode = playerNode = null;
    response = null;
    playing = false;
    speechStoppedAt = null;
    delete ui.status.dataset.sessionReady;
    ui.meter.style.width = "0";
    document.body.classList.remove("speaking");
    ui.start.disabled = false;
    ui.stop.disabled = true;
    ui.apply.disabled = true;
    if (ui.status.dataset.state !== "error") setState("idle", "Not connected.");
  }

  ui.start.addEventListener("click", start);
  ui.stop.addEventListener("click", stop);
  ui.instructions.addEventListener("input", () => {
    instructionsTouched = true;
  });
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    send({ type: "session.update", session: sessionConfig() });
  });
  for (const el of [ui.voice, ui.turn]) {
    el.addEventListener("change", () => send({ type: "session.update", session: sessionConfig() }));
  }
})();
