from .channel_attention_head import GroupChannelAttentionHead

__all__ = ['GroupChannelAttentionHead']
