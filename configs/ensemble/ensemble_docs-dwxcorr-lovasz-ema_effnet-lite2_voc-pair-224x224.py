# Test-time ensemble of the two best CPU models (issue 11): DOCS and the
# depth-wise cross-correlation network, both ImageNet EfficientNet-Lite2
# with Lovasz + EMA for 2.5k iterations (the members tested in
# configs/ensemble/README.md took 89.5 and 74 min on 2 CPU cores, 164 min
# together). Their foreground probabilities are
# averaged; flip, grouping and mask gates come from this test_cfg. Merge the
# members' checkpoints first:
#   python tools/model_converters/ensemble_checkpoint.py THIS_CONFIG \
#       DOCS_CKPT DWXCORR_CKPT --out work_dirs/ensemble.pth
#   python tools/test.py THIS_CONFIG work_dirs/ensemble.pth
_base_ = ['../docs/docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-224x224.py']
model = dict(
    _delete_=True,
    type='CoSegEnsemble',
    members=[
        dict(config='configs/docs/'
             'docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-224x224.py'),
        dict(config='configs/dwxcorr/'
             'dwxcorr-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-224x224.py'),
    ],
    test_cfg=dict(flip=True))
# nothing is trained: no weight average to keep
custom_hooks = []
