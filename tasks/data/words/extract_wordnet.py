# Builds nouns.txt, adjectives.txt and verbs.txt from Debian's wordnet-base
# (WordNet 3.0, see LICENSE.WordNet): the most frequent lemmas of each part of
# speech by SemCor tag counts (cntlist.rev), lower-case letters only, 3-12
# long, that WordNet also writes in lower case (so no proper nouns).
import collections, re

WN = '/usr/share/wordnet/'
cnt = collections.Counter()
for line in open(WN + 'cntlist.rev'):
    key, sense, tags = line.split()
    lemma, rest = key.split('%')
    pos = {1: 'n', 2: 'v', 3: 'a', 5: 'a'}.get(int(rest.split(':')[0]))
    if pos:
        cnt[(lemma, pos)] += int(tags)

lowercase_forms = {'n': set(), 'v': set(), 'a': set()}
for pos, fname in (('n', 'data.noun'), ('v', 'data.verb'), ('a', 'data.adj')):
    for line in open(WN + fname):
        if line.startswith('  '):
            continue
        f = line.split()
        nwords = int(f[3], 16)
        for k in range(nwords):
            w = re.sub(r'\(.*\)$', '', f[4 + 2 * k])
            if w == w.lower():
                lowercase_forms[pos].add(w)

BLOCK = set('nigger fuck shit rape sex sexual kill murder bitch ass whore penis vagina'.split())

def top(pos, n):
    items = [(c, l) for (l, p), c in cnt.items()
             if p == pos and re.fullmatch(r'[a-z]{3,12}', l) and l in lowercase_forms[pos]
             and l not in BLOCK]
    items.sort(key=lambda x: (-x[0], x[1]))
    return sorted(l for c, l in items[:n])

for name, pos, n in (('nouns', 'n', 2000), ('adjectives', 'a', 900), ('verbs', 'v', 900)):
    words = top(pos, n)
    open(name + '.txt', 'w').write('\n'.join(words) + '\n')
    print(name, len(words))
