// The npm `openai` package (pinned in package.json) as a client of `duet serve`: its REST clients
// (models, transcription, speech, chat plain and streamed) and its realtime client (openai/realtime/ws,
// over the `ws` package) asking a spoken question. Prints one JSON object of what came back; the
// pytest test tests/python/test_serve_node.py judges it. Must never judge anything itself (it only
// reports) and never wait forever: every step has a deadline.
//
// Usage: node serve_client.mjs <server http url> <question.wav> <question.pcm (pcm16 24 kHz)>
import fs from 'node:fs';
import net from 'node:net';

import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const [base, wavPath, pcmPath] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 300_000 });
const report = {};

report.models = (await client.models.list()).data.map((m) => m.id);

const transcription = await client.audio.transcriptions.create({
  model: 'whisper-1', file: fs.createReadStream(wavPath) });
report.transcript = transcription.text;

const speech = await client.audio.speech.create({
  model: 'tts-1', voice: 'alloy', input: 'Hello from node.', response_format: 'wav' });
const wav = Buffer.from(await speech.arrayBuffer());
report.speech = { bytes: wav.length, riff: wav.subarray(0, 4).toString('latin1'),
                  wave: wav.subarray(8, 12).toString('latin1') };

const question = [{ role: 'user', content: 'Say hello.' }];
const chat = await client.chat.completions.create({ model: 'duet', messages: question, max_tokens: 16 });
report.chat = { object: chat.object, content: chat.choices[0].message.content,
                finish_reason: chat.choices[0].finish_reason };

const stream = await client.chat.completions.create({
  model: 'duet', messages: question, max_tokens: 16, stream: true });
report.chat_stream = { chunks: 0, text: '', objects: [] };
for await (const chunk of stream) {
  report.chat_stream.chunks += 1;
  report.chat_stream.text += chunk.choices[0]?.delta?.content ?? '';
  if (!report.chat_stream.objects.includes(chunk.object)) report.chat_stream.objects.push(chunk.object);
}

// The SDK always dials wss:// (it expects OpenAI's TLS endpoint); `ws` lets the caller supply the
// socket, so the same client speaks plain TCP to the local server.
report.realtime = await new Promise((resolve) => {
  const events = [];
  const finish = (why) => {
    clearTimeout(timer);
    try { rt.close(); } catch { /* already closed */ }
    resolve({ ended_by: why, events });
  };
  const timer = setTimeout(() => finish('timeout'), 240_000);
  const rt = new OpenAIRealtimeWS(
    { model: 'duet', options: { createConnection: (opts) => net.connect(opts) } }, client);
  rt.on('error', (err) => events.push({ type: 'client_error', message: String(err.message) }));
  rt.on('event', (ev) => {
    if (ev.type === 'response.output_audio.delta') {  // the audio itself, summarised
      const pcm = Buffer.from(ev.delta, 'base64');
      let peak = 0;
      for (let i = 0; i + 1 < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
      events.push({ type: ev.type, item_id: ev.item_id, bytes: pcm.length, peak });
    } else {
      events.push(ev);
    }
    if (ev.type === 'response.done') finish('response.done');
  });
  rt.on('session.created', () => {
    rt.send({ type: 'session.update', session: {
      type: 'realtime', output_modalities: ['audio'], instructions: 'Answer briefly.',
      audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: null,
                        transcription: { model: 'whisper-1' } } } } });
    const pcm = fs.readFileSync(pcmPath);
    const step = 24000 * 2 / 10;  // 100 ms
    for (let i = 0; i < pcm.length; i += step) {
      rt.send({ type: 'input_audio_buffer.append', audio: pcm.subarray(i, i + step).toString('base64') });
    }
    rt.send({ type: 'input_audio_buffer.commit' });
    rt.send({ type: 'response.create' });
  });
  rt.socket.on('close', () => finish('closed'));
});

process.stdout.write(JSON.stringify(report));
