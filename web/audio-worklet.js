// Duet's AudioWorklet processors: "duet-capture" turns microphone audio into 24 kHz PCM16 chunks,
// "duet-player" plays 24 kHz float chunks as they stream in and reports exactly how much was heard.
// Runs on the audio thread: must never block, allocate per sample, or touch the network or the DOM.

const WIRE_RATE = 24000;

// Microphone -> 24 kHz mono PCM16, posted to the page in ~100 ms ArrayBuffers. The page puts a
// low-pass filter in front of this node, so plain linear interpolation does not alias.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / WIRE_RATE; // input samples per output sample (2 at 48 kHz)
    this.pos = 0; // position of the next output sample, in input samples from `prev`
    this.prev = 0; // the last input sample of the previous block
    this.chunk = new Int16Array(WIRE_RATE / 10);
    this.filled = 0;
    this.running = true;
    this.port.onmessage = (e) => {
      if (e.data && e.data.type === "stop") this.running = false;
    };
  }

  push(value) {
    const v = value < -1 ? -1 : value > 1 ? 1 : value;
    this.chunk[this.filled++] = v < 0 ? v * 0x8000 : v * 0x7fff;
    if (this.filled === this.chunk.length) {
      const out = this.chunk;
      this.port.postMessage(out.buffer, [out.buffer]);
      this.chunk = new Int16Array(WIRE_RATE / 10);
      this.filled = 0;
    }
  }

  process(inputs) {
    if (!this.running) return false;
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const ch = input[0];
    const n = ch.length;
    // Sample k of this block is ch[k]; index -1 is `prev`.
    while (this.pos < n - 1) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = i < 0 ? this.prev : ch[i];
      const b = ch[i + 1];
      this.push(a + (b - a) * frac);
      this.pos += this.step;
    }
    this.pos -= n;
    this.prev = ch[n - 1];
    return true;
  }
}

// Streaming playback at the context's rate (the page makes the playback context 24 kHz). Chunks
// queue up; "clear" drops what is unplayed and answers with how much of each item was heard.
class PlayerProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; // {samples: Float32Array, item: string}
    this.offset = 0; // read position in queue[0]
    this.item = null; // item of the chunk now playing
    this.itemPlayed = 0; // samples of `item` played so far
    this.chunksStarted = 0;
    this.samplesPlayed = 0;
    this.playing = false;
    this.sinceReport = 0;
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(msg) {
    if (msg.type === "push") {
      this.queue.push({ samples: msg.samples, item: msg.item });
    } else if (msg.type === "clear") {
      const unplayed = this.queue.length > 0;
      this.queue = [];
      this.offset = 0;
      this.playing = false;
      this.port.postMessage({
        type: "cleared",
        item: this.item,
        itemPlayed: this.itemPlayed,
        hadUnplayed: unplayed,
        chunksStarted: this.chunksStarted,
        samplesPlayed: this.samplesPlayed,
      });
    }
  }

  report(type) {
    this.port.postMessage({
      type,
      item: this.item,
      itemPlayed: this.itemPlayed,
      chunksStarted: this.chunksStarted,
      samplesPlayed: this.samplesPlayed,
    });
    this.sinceReport = 0;
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    let w = 0;
    while (w < out.length && this.queue.length > 0) {
      const head = this.queue[0];
      if (this.offset === 0) {
        if (head.item !== this.item) {
          this.item = head.item;
          this.itemPlayed = 0;
        }
        this.chunksStarted++;
        if (!this.playing) {
          this.playing = true;
          this.report("started");
        }
      }
      const take = Math.min(out.length - w, head.samples.length - this.offset);
      out.set(head.samples.subarray(this.offset, this.offset + take), w);
      w += take;
      this.offset += take;
      this.itemPlayed += take;
      this.samplesPlayed += take;
      if (this.offset >= head.samples.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    out.fill(0, w);
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.sinceReport += out.length;
    if (this.playing && this.queue.length === 0) {
      this.playing = false;
      this.report("drained");
    } else if (this.playing && this.sinceReport >= sampleRate / 10) {
      this.report("progress");
    }
    return true;
  }
}

registerProcessor("duet-capture", CaptureProcessor);
registerProcessor("duet-player", PlayerProcessor);
