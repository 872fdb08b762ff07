using LlmSizer.Checkpoints;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Checkpoints;

public sealed class TensorClassifierTests
{
    [Theory]
    // Hugging Face names (the families' official checkpoints).
    [InlineData("model.embed_tokens.weight", TensorGroup.Embedding, null)]
    [InlineData("model.layers.12.self_attn.q_proj.weight", TensorGroup.Attention, 12)]
    [InlineData("model.layers.3.self_attn.q_norm.weight", TensorGroup.Attention, 3)]
    [InlineData("model.layers.3.input_layernorm.weight", TensorGroup.Norm, 3)]
    [InlineData("model.layers.3.mlp.down_proj.weight", TensorGroup.Mlp, 3)]
    [InlineData("model.layers.3.mlp.experts.7.up_proj.weight", TensorGroup.Experts, 3)]
    [InlineData("model.layers.3.mlp.shared_experts.up_proj.weight", TensorGroup.Mlp, 3)]
    [InlineData("model.layers.3.mlp.shared_expert_gate.weight", TensorGroup.Mlp, 3)]
    [InlineData("model.layers.3.mlp.gate.weight", TensorGroup.Mlp, 3)]
    [InlineData("model.layers.3.block_sparse_moe.experts.0.w1.weight", TensorGroup.Experts, 3)]
    [InlineData("model.norm.weight", TensorGroup.Norm, null)]
    [InlineData("lm_head.weight", TensorGroup.LmHead, null)]
    [InlineData("transformer.h.11.attn.c_attn.weight", TensorGroup.Attention, 11)]
    [InlineData("transformer.h.11.mlp.c_fc.weight", TensorGroup.Mlp, 11)]
    [InlineData("transformer.h.11.ln_2.bias", TensorGroup.Norm, 11)]
    [InlineData("transformer.wpe.weight", TensorGroup.Embedding, null)]
    [InlineData("bert.embeddings.LayerNorm.weight", TensorGroup.Norm, null)]
    [InlineData("bert.encoder.layer.5.attention.output.dense.weight", TensorGroup.Attention, 5)]
    [InlineData("bert.encoder.layer.5.output.dense.weight", TensorGroup.Mlp, 5)]
    [InlineData("bert.encoder.layer.5.intermediate.dense.weight", TensorGroup.Mlp, 5)]
    [InlineData("cls.predictions.transform.LayerNorm.weight", TensorGroup.LmHead, null)]
    [InlineData("encoder.block.2.layer.1.DenseReluDense.wi.weight", TensorGroup.Mlp, 2)]
    [InlineData("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", TensorGroup.Attention, 0)]
    [InlineData("shared.weight", TensorGroup.Embedding, null)]
    [InlineData("gpt_neox.layers.4.attention.query_key_value.weight", TensorGroup.Attention, 4)]
    [InlineData("embed_out.weight", TensorGroup.LmHead, null)]
    // llama.cpp / GGUF names.
    [InlineData("token_embd.weight", TensorGroup.Embedding, null)]
    [InlineData("output.weight", TensorGroup.LmHead, null)]
    [InlineData("output_norm.weight", TensorGroup.Norm, null)]
    [InlineData("blk.7.attn_q.weight", TensorGroup.Attention, 7)]
    [InlineData("blk.7.attn_k_norm.weight", TensorGroup.Attention, 7)]
    [InlineData("blk.7.ffn_norm.weight", TensorGroup.Norm, 7)]
    [InlineData("blk.7.ffn_down_exps.weight", TensorGroup.Experts, 7)]
    [InlineData("blk.7.ffn_up_shexp.weight", TensorGroup.Mlp, 7)]
    [InlineData("blk.7.ffn_gate_inp.weight", TensorGroup.Mlp, 7)]
    [InlineData("token_embd_norm.weight", TensorGroup.Norm, null)]
    public void GroupOf_KnownNames(string name, TensorGroup group, int? layer) =>
        Assert.Equal((group, layer), TensorClassifier.GroupOf(name));

    [Theory]
    [InlineData("h.0.attn.bias", TensorKind.Buffer)]
    [InlineData("transformer.h.0.attn.masked_bias", TensorKind.Buffer)]
    [InlineData("transformer.h.0.attn.c_attn.bias", TensorKind.Parameter)]
    [InlineData("model.layers.0.self_attn.rotary_emb.inv_freq", TensorKind.Buffer)]
    [InlineData("bert.embeddings.position_ids", TensorKind.Buffer)]
    [InlineData("rope_freqs.weight", TensorKind.Buffer)]
    [InlineData("model.layers.0.mlp.down_proj.scales", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.qzeros", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.g_idx", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.weight_scale_inv", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.weight_scale", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.SCB", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.weight.absmax", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.weight.quant_map", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.weight.quant_state.bitsandbytes__nf4", TensorKind.QuantizationAux)]
    [InlineData("model.layers.0.mlp.down_proj.qweight", TensorKind.Parameter)]
    [InlineData("model.layers.0.mlp.down_proj.bias", TensorKind.Parameter)]
    [InlineData("model.language_model.layers.0.layer_scalar", TensorKind.Buffer)]
    [InlineData("model.vision_tower.std_bias", TensorKind.Buffer)]
    [InlineData("model.vision_tower.encoder.layers.0.self_attn.q_proj.input_max", TensorKind.Buffer)]
    [InlineData("model.audio_tower.layers.0.lconv1d.linear_start.output_min", TensorKind.Buffer)]
    [InlineData("model.audio_tower.layers.0.lconv1d.linear_start.linear.weight", TensorKind.Parameter)]
    public void KindOf_KnownNames(string name, TensorKind kind) => Assert.Equal(kind, TensorClassifier.KindOf(name));
}
