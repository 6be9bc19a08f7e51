# A warm restart at a higher resolution (issue 11, schedule and resolution
# levers): the 288x288 Lovasz + EMA DOCS model
# (docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-288x288.py, trained first)
# fine-tuned for 800 more iterations on 320x320 crops, testing at 352.
# The learning rate restarts at 3e-4 (the 288 run's rate at about 80 % of
# its schedule; not tuned), warms up over 50 iterations and decays to zero;
# the weight EMA starts from the loaded (EMA) weights. Both runs together
# trained for 146-152 minutes on a 2-core CPU (configs/docs/README.md).
_base_ = [
    '../_base_/models/docs_effnet-lite2.py',
    '../_base_/datasets/voc_coseg_pair-320x320.py',
    '../_base_/default_runtime.py', '../_base_/losses/ce_lovasz.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
model = dict(decode_head=dict(loss_decode={{_base_.ce_lovasz_loss}}))
train_dataloader = dict(sampler=dict(neg_ratio=0.3))
# the last checkpoint of the 288x288 config's own run (its val peaked at
# the end of the schedule); pass --cfg-options load_from=... for another
load_from = ('work_dirs/docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-'
             '288x288/iter_2500.pth')
max_iters = 800
optim_wrapper = dict(optimizer=dict(lr=3e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=50, by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=50,
        end=max_iters,
        by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(checkpoint=dict(interval=200))
