"""The training loop of methods that fit the collection they segment."""
import math
import time
from typing import Iterator, Optional

from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from cosegtools.datasets.samplers import partition_class
from cosegtools.registry import LOOPS


class EpochIterator:
    """Batches of a dataloader without end: at the end of an epoch the
    sampler gets the next epoch (``set_epoch``) and the dataloader starts
    again. mmengine's iterator of the iteration-based loop does the same
    but warns and sleeps 2 s at every epoch's end, which for small
    collections fitted for tens of epochs is minutes of nothing."""

    def __init__(self, dataloader):
        self.dataloader = dataloader
        self.epoch = 0
        self.iterator = iter(dataloader)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self.iterator)
        except StopIteration:
            self.epoch += 1
            sampler = getattr(self.dataloader, 'sampler', None)
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(self.epoch)
            self.iterator = iter(self.dataloader)
            return next(self.iterator)


@LOOPS.register_module()
class CollectionFitLoop(IterBasedTrainLoop):
    """Two-stage fitting of a model to one collection, counted in epochs.

    An epoch is one pass over the collection: ``ceil(images / (batch_size *
    group_size))`` iterations, so the schedule follows the collection's size
    as the paper's does (co-attention: 20 epochs of stage one, then 40);
    ``max_iters_per_epoch`` caps it, so that a large collection gets no more
    iterations than one of ``max_iters_per_epoch * batch_size * group_size``
    images (an epoch then passes over part of the collection, the next one
    goes on where it stopped).

    - stage one: ``stage_one_epochs`` epochs of the model's loss without
      targets;
    - then the model sets its targets from the whole collection
      (``model.update_targets(batches, first=True)``; before the first
      iteration when ``stage_one_epochs`` is 0) and stage two runs to
      ``max_epochs``, the targets updated again every ``target_interval``
      epochs (``first=False``).

    The targets are part of the model's state dict, so checkpoints and
    ``--resume`` carry them. A run resumed from the checkpoint of a finished
    fit is not fitted again (and the data loader is not replayed). Before
    training, every image of the collection goes once through the training
    pipeline, so a cached transform (e.g. :class:`LoadObjectProposals`)
    computes what it caches up front; the wall seconds of that pass and of
    the target updates are kept in :attr:`seconds`.

    The target updates see each image once, ``target_batch_size`` images a
    forward pass, in dataset order, on every rank.

    Args:
        runner: the Runner.
        dataloader: the training dataloader (config or built).
        max_epochs (int): epochs in all.
        stage_one_epochs (int): epochs before the first targets, in
            [0, max_epochs].
        target_interval (int): epochs between target updates in stage two.
        target_batch_size (int): images per forward pass in target updates.
        max_iters_per_epoch (int, optional): at most this many iterations an
            epoch; None: a pass over the whole collection.
    """

    def __init__(self,
                 runner,
                 dataloader,
                 max_epochs: int,
                 stage_one_epochs: int,
                 target_interval: int = 1,
                 target_batch_size: int = 16,
                 max_iters_per_epoch: Optional[int] = None):
        if not 0 <= stage_one_epochs <= max_epochs or max_epochs < 1:
            raise ValueError(
                'CollectionFitLoop needs 0 <= stage_one_epochs <= '
                f'max_epochs and max_epochs >= 1, got stage_one_epochs='
                f'{stage_one_epochs}, max_epochs={max_epochs}')
        if max_iters_per_epoch is not None and max_iters_per_epoch < 1:
            raise ValueError(
                'CollectionFitLoop needs max_iters_per_epoch >= 1 or None, '
                f'got {max_iters_per_epoch}')
        if target_interval < 1 or target_batch_size < 2:
            raise ValueError(
                'CollectionFitLoop needs target_interval >= 1 and '
                f'target_batch_size >= 2, got {target_interval} and '
                f'{target_batch_size}')
        # max_iters is known once the dataloader (and its collection) is
        # built by the parent
        super().__init__(runner, dataloader, max_iters=1)
        self.dataloader_iterator = EpochIterator(self.dataloader)
        group_size = getattr(self.dataloader.sampler, 'group_size', 1) or 1
        images_per_iter = (self.dataloader.batch_size or 1) * group_size
        self.iters_per_epoch = max(
            1, math.ceil(len(self.dataloader.dataset) / images_per_iter))
        if max_iters_per_epoch is not None:
            self.iters_per_epoch = min(self.iters_per_epoch,
                                       max_iters_per_epoch)
        self._max_iters = max_epochs * self.iters_per_epoch
        self.fit_epochs = max_epochs
        self.stage_one_iters = stage_one_epochs * self.iters_per_epoch
        self.target_iters = target_interval * self.iters_per_epoch
        self.target_batch_size = target_batch_size
        #: wall seconds of the pass that fills transform caches and of the
        #: target updates
        self.seconds = dict(proposals=0.0, targets=0.0)

    @property
    def fit_model(self):
        model = self.runner.model
        return getattr(model, 'module', model)

    def collection_batches(self) -> Iterator[dict]:
        """Every image of the collection once, through the training
        pipeline, ``target_batch_size`` images a batch (a last single image
        joins the batch before it)."""
        dataset = self.dataloader.dataset
        for group in partition_class(
                list(range(len(dataset))), self.target_batch_size):
            yield pseudo_collate([dataset[list(group)]])

    def run(self):
        if self._iter >= self._max_iters:
            print_log(
                f'fitted before: the checkpoint is at iteration {self._iter}'
                f' of {self._max_iters}; not fitted again',
                logger='current')
            return self.runner.model
        print_log(
            f'fitting {len(self.dataloader.dataset)} images: '
            f'{self.fit_epochs} epochs of {self.iters_per_epoch} iterations, '
            f'targets after {self.stage_one_iters} iterations',
            logger='current')
        start = time.perf_counter()
        for _ in self.collection_batches():
            pass
        self.seconds['proposals'] += time.perf_counter() - start
        if self.stage_one_iters == 0 and self._iter == 0:
            self.update_targets(first=True)
        return super().run()

    def update_targets(self, first: bool) -> None:
        start = time.perf_counter()
        self.fit_model.update_targets(self.collection_batches(), first=first)
        self.seconds['targets'] += time.perf_counter() - start

    def run_iter(self, data_batch) -> None:
        # as IterBasedTrainLoop.run_iter, with the targets updated before
        # the hooks run, so a checkpoint of this iteration holds them
        self.runner.call_hook(
            'before_train_iter', batch_idx=self._iter, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        done = self._iter + 1
        # (targets set after the last iteration would train nothing)
        if done == self.stage_one_iters:
            self.update_targets(first=True)
        elif (self.stage_one_iters < done < self._max_iters and
              (done - self.stage_one_iters) % self.target_iters == 0):
            self.update_targets(first=False)
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=self._iter,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1
