/**
 * The report's sections: the reading group's notes, paper by paper, in the notes' order. Each quote
 * is copied verbatim from the notes page (typos included — it is their voice, not ours), so the
 * report can set each claim or doubt beside the numbers we measured.
 */
import type { Experiment } from '../experiments/types.js';

export type SectionId = Experiment['section'];

export interface NoteQuote {
  /** The sentence(s) as written in the notes. */
  text: string;
  /** What kind of remark it is, shown as a label. */
  kind: 'claim' | 'doubt' | 'question' | 'remark';
}

export interface Section {
  id: SectionId;
  /** The heading the notes use. */
  notesHeading: string;
  /** The paper(s) the section covers. */
  papers: string[];
  quotes: NoteQuote[];
  /** Name of an in-browser demo shown in this section (see demos.ts), if any. */
  demos: DemoId[];
}

export type DemoId = 'gpt-compute' | 'lsh-buckets' | 'hebbian-cartpole';

/** The seven sections in the order of the notes page. */
export const SECTIONS: readonly Section[] = [
  {
    id: 'gpt3',
    notesHeading: 'GPT3',
    papers: ['Language Models are Few-Shot Learners (Brown et al., 2020)'],
    quotes: [
      { kind: 'claim', text: 'I found the training compute comparison facinating (~1000x BERT-base). The large model has 175B parameters. And some said it costed $5M to train.' },
      { kind: 'doubt', text: 'It is very likely that the model “remembers” the data somehow and “recalls” the best matches from all training data.' },
    ],
    demos: ['gpt-compute'],
  },
  {
    id: 'supcon',
    notesHeading: 'Supervised contrastive learning',
    papers: ['Supervised Contrastive Learning (Khosla et al., 2020)'],
    quotes: [
      { kind: 'claim', text: 'The main innovation in this work is that rather than treating all other samples as negative samples. It treats data with the same labels as positive samples as well.' },
      { kind: 'remark', text: 'After the pretraining, we can train the last layer with labelled data while keeping all the other layers fixed.' },
    ],
    demos: [],
  },
  {
    id: 'radioactive',
    notesHeading: 'Radioactivate data tracing through training',
    papers: ['Radioactive data: tracing through training (Sablayrolles et al., 2020)'],
    quotes: [
      { kind: 'doubt', text: 'It seems that it is training and testing the same classifier. If a different classifier is used to the marked data, not sure if the method will actually work' },
      { kind: 'doubt', text: 'The “radioactive” images actually look very bad' },
      { kind: 'doubt', text: 'It reminds me watermarking techniques popular in early 2000 but it never seems to take off since it doesn’t really work.' },
    ],
    demos: [],
  },
  {
    id: 'hebbian',
    notesHeading: 'Meta-Learning through Hebbian Plasticity in Random Networks',
    papers: ['Meta-Learning through Hebbian Plasticity in Random Networks (Najarro & Risi, 2020)'],
    quotes: [
      { kind: 'claim', text: 'Instead of updating weights directly, update the rules (determined by the Hebbian coefficients) that update the weights' },
      { kind: 'question', text: '(This I am not completely certained how it is evaluated)' },
    ],
    demos: ['hebbian-cartpole'],
  },
  {
    id: 'reformer',
    notesHeading: 'Reformer',
    papers: ['Reformer: The Efficient Transformer (Kitaev et al., 2020)'],
    quotes: [
      { kind: 'claim', text: 'Group keys and queries into “buckets” first and only compute dot product of keys and queries in the same bucket.' },
      { kind: 'remark', text: 'Actually, it is just coset and syndrome coding but with the parity check matrix “degenerated” (care nothing but just for the first two bits).' },
      { kind: 'remark', text: 'For the reformer case, LSH is implemented as projections of the keys and queries onto random vectors. The signs of the resulting projections will determine the bucket.' },
      { kind: 'claim', text: 'Since they don’t want to store the bucket projection vectors, they make the step reversible instead.' },
    ],
    demos: ['lsh-buckets'],
  },
  {
    id: 'byol',
    notesHeading: 'BYOL',
    papers: ['Bootstrap Your Own Latent (Grill et al., 2020)', 'Exploring Simple Siamese Representation Learning (Chen & He, 2020)'],
    quotes: [
      { kind: 'doubt', text: 'It is indeed quite surprising that this works without negative samples. Because there is nothing in the above model that avoids converging to trivial solution (everything maps to a constant)' },
      { kind: 'remark', text: 'The representation network for the augmented data has moving average parameter of the current representation.' },
      { kind: 'remark', text: 'They are using 512 TPUs for training for 7 hours…' },
    ],
    demos: [],
  },
  {
    id: 'linformer',
    notesHeading: 'Linformer',
    papers: ['Linformer: Self-Attention with Linear Complexity (Wang et al., 2020)', 'Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention (Katharopoulos et al., 2020)'],
    quotes: [
      { kind: 'doubt', text: 'Some gain in speed but doesn’t look too significant. Tradeoff in performance seems larger than claimed' },
      { kind: 'doubt', text: 'Theorem 1 based on JL-lemma did not used properties of attention itself.' },
      { kind: 'claim', text: 'With the same goal of speeding up transformer, the “kernelized transformer” appears to be a better work' },
    ],
    demos: [],
  },
];

/** Guesses a section from an experiment name, for results whose experiment is not in the registry. */
export function guessSection(name: string): SectionId | null {
  const rules: Array<[RegExp, SectionId]> = [
    [/^(gpt|memoriz)/, 'gpt3'],
    [/^(supcon|simclr|contrastive)/, 'supcon'],
    [/^radioactive/, 'radioactive'],
    [/^hebb/, 'hebbian'],
    [/^(reformer|lsh|reversible)/, 'reformer'],
    [/^(byol|simsiam)/, 'byol'],
    [/^(linformer|linear|performer|kernel)/, 'linformer'],
  ];
  for (const [re, id] of rules) if (re.test(name)) return id;
  return null;
}
