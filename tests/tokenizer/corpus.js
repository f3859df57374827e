// corpus.js: a deterministic, varied test corpus for tokenizer conformance.
//   node corpus.js OUT.jsonl [MIN_BYTES]
// Writes one JSON string per line (a "document"), and OUT.invalid.bin: text
// with invalid UTF-8 mixed in (checked separately). Same seed, same bytes.
'use strict';
const fs = require('fs');

let state = 0x2545f491;
function rand() { // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(rand() * n);
const pick = (a) => a[below(a.length)];

const WORDS = ('the of and to in is was for on that with as by at from his her it he she they we you ' +
    'time year people way day man thing woman life child world school state family student group country ' +
    'problem hand part place case week company system program question work government number night point ' +
    'home water room mother area money story fact month lot right study book eye job word business issue ' +
    'extrapolation tokenizer benchmark context window attention rotary embedding needle haystack magic ' +
    'international responsibility misunderstanding antidisestablishmentarianism naïve café résumé façade ' +
    'coöperate Zürich São Paulo Ærøskøbing straße Øresund').split(' ');
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL",
    "'D", "'Ll", "'lL", "'Re", "n't", "N'T", "'x", "'ſ", "'K"];
const PUNCT = ['.', ',', '!', '?', ';', ':', '...', ' -', ' —', ' (', ')', '"', "'", '“', '”', '«', '»', '…'];
const SPECIAL = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<think>', '</think>', '<s>', '</s>', '<unk>',
    '<|im_start|>user\n', ' <|im_end|> ', '<|endoftext|><|endoftext|>', '<s><s>', '<|fim_prefix|>',
    '<tool_call>', '<|vision_start|>', '<|begin_of_text|>'];
const CJK = '的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知大小中国人民共和国北京上海深圳香港台灣龍體學習機器語言模型長上下文擴展';
const CJK_PUNCT = ['，', '。', '！', '？', '、', '：', '；', '「', '」', '《', '》', '（', '）', '　'];
const ARABIC = ['السلام', 'عليكم', 'مرحبا', 'بالعالم', 'اللغة', 'العربية', 'كتاب', 'مدرسة', 'الذكاء',
    'الاصطناعي', 'نموذج', 'سياق', 'طويل', 'كَتَبَ', 'مُحَمَّد', 'قُرْآن', '٠١٢٣٤٥٦٧٨٩', '؟', '،', 'ﷲ'];
const EMOJI = ['😀', '😂', '🥲', '👍', '👍🏽', '👨‍👩‍👧‍👦', '👩🏾‍💻', '🏳️‍🌈', '🇫🇷', '🇯🇵', '❤️', '✨', '🔥',
    '🧑‍🤝‍🧑', '👁️‍🗨️', '🐈‍⬛', '1️⃣', '#️⃣', '©️', '🤷‍♀️', '🙇🏻‍♂️', '\u200d', '\ufe0f'];
const OTHER = ['Ελληνικά κείμενα', 'Русский текст здесь', 'हिन्दी भाषा', 'ภาษาไทย', '한국어 텍스트', 'עִבְרִית',
    'Tiếng Việt có dấu', 'ጤና ይስጥልኝ', 'ᏣᎳᎩ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝟙𝟚𝟛', 'ﬁ ﬂ', 'Ⅻ Ⅷ', '½ ¾ ²', 'K Å Ω',
    'e\u0301 a\u0300 o\u0308 n\u0303', '\u1100\u1161\u11a8', 'A\u030a\u0323', 'q\u0307\u0323',
    '\u0915\u093c', 'ﾊﾝｶｸ', 'Ｆｕｌｌｗｉｄｔｈ', '\u00ad', '\u2060', '\ufeff'];
const SPACES = [' ', '  ', '   ', '\t', '\t\t', '\n', '\n\n', '\r\n', '\r\n\r\n', ' \n', '\n ', '  \n  ',
    '\u00a0', '\u00a0\u00a0', '\u3000', '\u2009', '\u202f', '\u2028', '\u0085', '\x0b', '\x0c', ' \t \n'];
const CODE = [
    'int main(int argc, char **argv) {\n    return 0;\n}\n',
    'def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
    'for (size_t i = 0; i < n; i++) {\n\tsum += a[i] * b[i];\n}\n',
    'const x = arr.map((v) => v ** 2).filter(Boolean); // squares\n',
    '#include <stdio.h>\r\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\r\n',
    'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;\n',
    '    if (err != nil) {\n        return fmt.Errorf("failed: %w", err)\n    }\n',
    '{"key": [1, 2.5, -3e10, null, true], "nested": {"a": "b\\n"}}\n',
    '<div class="x">&nbsp;&lt;tag&gt;</div>\n', 'x+=1;y-=2;z*=3;w/=4;a%=5;b<<=1;c>>=2;d&&e||f!g\n',
    '$ ls -la /usr/local/bin | grep -E "^d" && echo "done" >> log.txt 2>&1\n',
    '        \n\t\t\n    # indented comment with trailing spaces   \n',
    'fn main() { let v: Vec<u8> = vec![0xFF, 0x0A]; println!("{:?}", v); }\n',
];

function number() {
    switch (below(6)) {
    case 0: return String(below(10));
    case 1: return String(below(100000));
    case 2: { let s = ''; const n = 5 + below(40); for (let i = 0; i < n; i++) s += below(10); return s; }
    case 3: return (rand() * 1e6).toFixed(below(6));
    case 4: return `${below(10000)},${String(below(1000)).padStart(3, '0')},${String(below(1000)).padStart(3, '0')}`;
    default: return `+1 (${100 + below(900)}) ${100 + below(900)}-${1000 + below(9000)}`;
    }
}

function englishSentence() {
    let s = '';
    const n = 4 + below(16);
    for (let i = 0; i < n; i++) {
        let w = pick(WORDS);
        const r = rand();
        if (i === 0 || r < 0.08) w = w.charAt(0).toUpperCase() + w.slice(1);
        else if (r < 0.11) w = w.toUpperCase();
        if (rand() < 0.1) w += pick(CONTRACTIONS);
        if (rand() < 0.05) w = number();
        s += (i ? (rand() < 0.03 ? pick(SPACES) : ' ') : '') + w;
        if (rand() < 0.08) s += pick(PUNCT);
    }
    return s + pick(['.', '.', '.', '!', '?', '...', '."', '.\n']);
}

function chinese() {
    let s = '';
    const n = 10 + below(60);
    for (let i = 0; i < n; i++) {
        s += CJK[below(CJK.length)];
        if (rand() < 0.1) s += pick(CJK_PUNCT);
        if (rand() < 0.03) s += pick([' ', 'AI', '2024年', number(), 'GPU']);
    }
    return s;
}

function words(list, n, sep) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(pick(list));
    return out.join(sep);
}

function mixed() {
    const parts = [];
    const n = 5 + below(30);
    for (let i = 0; i < n; i++) {
        switch (below(10)) {
        case 0: parts.push(pick(EMOJI)); break;
        case 1: parts.push(pick(OTHER)); break;
        case 2: parts.push(pick(SPACES)); break;
        case 3: parts.push(pick(SPECIAL)); break;
        case 4: parts.push(number()); break;
        case 5: parts.push(pick(CONTRACTIONS)); break;
        case 6: parts.push(pick(PUNCT)); break;
        case 7: parts.push(String.fromCodePoint(0x20 + below(0x2fa0))); break;
        default: parts.push(pick(WORDS));
        }
    }
    return parts.join(rand() < 0.5 ? '' : ' ');
}

const KINDS = {
    english: () => { let s = ''; const n = 3 + below(30); for (let i = 0; i < n; i++) s += englishSentence() + (rand() < 0.15 ? '\n\n' : ' '); return s; },
    code: () => { let s = ''; const n = 2 + below(12); for (let i = 0; i < n; i++) s += pick(CODE) + (rand() < 0.3 ? pick(SPACES) : ''); return s; },
    chinese: () => { let s = ''; const n = 2 + below(20); for (let i = 0; i < n; i++) s += chinese() + (rand() < 0.2 ? '\n' : ''); return s; },
    arabic: () => words(ARABIC, 10 + below(200), ' ') + (rand() < 0.5 ? '\n' + number() : ''),
    emoji: () => { let s = ''; const n = 5 + below(80); for (let i = 0; i < n; i++) s += pick(EMOJI) + (rand() < 0.3 ? ' ' : '') + (rand() < 0.1 ? pick(WORDS) : ''); return s; },
    digits: () => { let s = ''; const n = 5 + below(60); for (let i = 0; i < n; i++) s += number() + pick([' ', ', ', '\n', '.', '', '-', ' x ']); return s; },
    spaces: () => { let s = ''; const n = 5 + below(60); for (let i = 0; i < n; i++) s += pick(WORDS) + pick(SPACES) + (rand() < 0.1 ? ' '.repeat(below(40)) : ''); return s; },
    special: () => { let s = ''; const n = 3 + below(20); for (let i = 0; i < n; i++) s += (rand() < 0.5 ? englishSentence() : pick(WORDS)) + pick(['', ' ', '\n']) + pick(SPECIAL); return s; },
    other: () => words(OTHER, 5 + below(60), pick([' ', '', '\n', '. '])),
    mixed,
};
const KIND_NAMES = Object.keys(KINDS);

function main() {
    const out = process.argv[2];
    const minBytes = Number(process.argv[3] || 1100000);
    const lines = [];
    // fixed edge cases first
    for (const s of ['', ' ', '  ', '\n', 'a', ' a', 'a ', '\t\ta', '   \n\n  x', "it's", "IT'S", "We'LL see",
        '<|im_start|>', ' <|im_start|>', '<s>', ' <s> x', '12345678901234567890', '\u00a0x\u00a0', 'ſ K',
        '\r\n\r\n', 'Ａ', '👨‍👩‍👧‍👦', 'x'.repeat(300), ' '.repeat(1000), 'ab'.repeat(200) + ' ' + '9'.repeat(500)])
        lines.push(s);
    let bytes = 0;
    while (bytes < minBytes) {
        let s = '';
        const parts = 1 + below(3);
        for (let i = 0; i < parts; i++) s += KINDS[pick(KIND_NAMES)]();
        lines.push(s);
        bytes += Buffer.byteLength(s);
    }
    // a few long documents: long words go through BPE without the cache
    for (let i = 0; i < 3; i++) {
        let s = '';
        while (s.length < 40000) s += KINDS[KIND_NAMES[i]]();
        lines.push(s);
    }
    fs.writeFileSync(out, lines.map((s) => JSON.stringify(s)).join('\n') + '\n');
    fs.writeFileSync(out.replace(/\.jsonl$/, '') + '.invalid.bin', invalidUtf8());
}

// Valid text with invalid UTF-8 between: stray continuation bytes, truncated
// sequences, overlong forms, surrogates, code points past U+10FFFF, F5..FF.
function invalidUtf8() {
    const BAD = [[0x80], [0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
        [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf5], [0xff], [0xfe, 0xfe], [0xc2], [0xe2, 0x28, 0xa1], [0xf8, 0x88, 0x80, 0x80, 0x80]];
    const parts = [];
    for (let i = 0; i < 400; i++) {
        parts.push(Buffer.from(rand() < 0.5 ? englishSentence() : mixed()));
        parts.push(Buffer.from(pick(BAD)));
    }
    parts.push(Buffer.from([0xe2, 0x82])); // truncated at the very end
    return Buffer.concat(parts);
}

main();
