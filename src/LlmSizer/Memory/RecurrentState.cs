using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Units;

namespace LlmSizer.Memory;

/// <summary>The recurrent state of a sequence in the state-space layers of a model (Mamba-1/2 and the SSM layers of
/// hybrids): a conv state and an SSM state per layer, fixed in size whatever the context length.</summary>
/// <remarks>
/// <para>Per SSM layer and sequence (d_conv = <see cref="SsmSpec.ConvKernel"/>, d_inner = <see cref="SsmSpec.InnerSize"/>,
/// G = <see cref="SsmSpec.Groups"/> (0 for Mamba-1), N = <see cref="SsmSpec.StateSize"/>):</para>
/// <para>conv state = (d_conv − 1) × (d_inner + 2·G·N) elements; SSM state = N × d_inner elements.</para>
/// <para>Sources. llama.cpp <c>src/llama-hparams.cpp</c>: <c>llama_hparams::n_embd_r()</c> returns
/// <c>(ssm_d_conv &gt; 0 ? ssm_d_conv - 1 : 0) * (ssm_d_inner + 2*ssm_n_group*ssm_d_state)</c> ("Corresponds to Mamba's
/// conv_states size"; the first column is shifted out, so d_conv − 1 columns are kept) and <c>n_embd_s()</c> returns
/// <c>ssm_d_state * ssm_d_inner</c> ("Mamba's ssm_states size"); <c>src/llama-memory-recurrent.cpp</c> keeps per
/// recurrent layer an R and an S tensor of that many elements per cell, one cell per sequence (its log lines
/// "R (f32)" and "S (f32)"), and <c>src/llama-model.cpp</c> hard-wires their types:
/// <c>/* recurrent_type_k */ GGML_TYPE_F32, /* recurrent_type_v */ GGML_TYPE_F32</c> (the KV cache type flags do not
/// apply to them).
/// vLLM <c>vllm/model_executor/layers/mamba/mamba_utils.py</c>, <c>MambaStateShapeCalculator</c>:
/// <c>mamba1_state_shape</c> gives conv <c>(conv_kernel - 1, intermediate_size / tp)</c> and temporal
/// <c>(intermediate_size / tp, state_size)</c>; <c>mamba2_state_shape</c> gives conv <c>(conv_kernel - 1,
/// (intermediate_size + 2 * n_groups * state_size) / tp)</c> after padding <c>n_groups</c> by
/// <c>extra_groups_for_head_shards</c> (0 when tp divides n_groups, else tp − n_groups), and temporal
/// <c>(num_heads / tp, head_dim, state_size)</c>, i.e. d_inner × N / tp; their dtypes are <c>mamba_cache_dtype</c> and
/// <c>mamba_ssm_cache_dtype</c> ("auto": the model dtype).</para>
/// <para>The two engines agree at tp = 1. Attention layers of a hybrid add their KV cache separately.</para>
/// </remarks>
public static class RecurrentState
{
    /// <summary>The conv-state elements of one SSM layer and one sequence on one tensor-parallel rank.</summary>
    /// <param name="ssm">The SSM geometry.</param>
    /// <param name="tensorParallel">The tensor-parallel degree (1 for a single GPU or llama.cpp).</param>
    /// <returns>(d_conv − 1) × (d_inner + 2·G'·N) / tp, G' being the groups padded for head sharding.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ssm"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensorParallel"/> is not positive.</exception>
    public static long ConvStateElements(SsmSpec ssm, int tensorParallel = 1)
    {
        ArgumentNullException.ThrowIfNull(ssm);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tensorParallel);
        long groups = ssm.Kind == SsmKind.Mamba2 ? PaddedGroups(ssm.Groups, tensorParallel) : 0;
        long channels = checked(ssm.InnerSize + (2 * groups * ssm.StateSize));
        return checked(Math.Max(0, ssm.ConvKernel - 1) * (channels / tensorParallel));
    }

    /// <summary>The SSM-state elements of one SSM layer and one sequence on one tensor-parallel rank.</summary>
    /// <param name="ssm">The SSM geometry.</param>
    /// <param name="tensorParallel">The tensor-parallel degree.</param>
    /// <returns>N × d_inner / tp (Mamba-2: heads / tp × head_dim × N).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ssm"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensorParallel"/> is not positive.</exception>
    public static long SsmStateElements(SsmSpec ssm, int tensorParallel = 1)
    {
        ArgumentNullException.ThrowIfNull(ssm);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tensorParallel);
        return ssm.Kind == SsmKind.Mamba2
            ? checked(ssm.Heads / tensorParallel * (long)ssm.HeadDim * ssm.StateSize)
            : checked(ssm.InnerSize / tensorParallel * (long)ssm.StateSize);
    }

    /// <summary>The conv-state elements of one linear-attention layer and one sequence on one tensor-parallel rank.</summary>
    /// <param name="linear">The linear-attention geometry.</param>
    /// <param name="tensorParallel">The tensor-parallel degree.</param>
    /// <returns>(kernel − 1) × (2·Hk·dk + Hv·dv) / tp.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="linear"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensorParallel"/> is not positive.</exception>
    public static long LinearConvStateElements(LinearAttentionSpec linear, int tensorParallel = 1)
    {
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tensorParallel);
        return checked(Math.Max(0, linear.ConvKernel - 1) * (linear.ConvChannels / tensorParallel));
    }

    /// <summary>The recurrent (delta-rule) state elements of one linear-attention layer and one sequence on one rank.</summary>
    /// <param name="linear">The linear-attention geometry.</param>
    /// <param name="tensorParallel">The tensor-parallel degree.</param>
    /// <returns>Hv / tp × dk × dv.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="linear"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensorParallel"/> is not positive.</exception>
    public static long LinearStateElements(LinearAttentionSpec linear, int tensorParallel = 1)
    {
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tensorParallel);
        return checked(linear.ValueHeads / tensorParallel * (long)linear.KeyHeadDim * linear.ValueHeadDim);
    }

    /// <summary>The number of layers of <paramref name="spec"/> that hold a recurrent SSM state.</summary>
    /// <param name="spec">The architecture.</param>
    /// <returns>The count of <see cref="LayerMixer.Ssm"/> and <see cref="LayerMixer.AttentionAndSsm"/> layers (0 without
    /// <see cref="ArchitectureSpec.Ssm"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="spec"/> is null.</exception>
    public static int SsmLayers(ArchitectureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Ssm is null ? 0 : Enumerable.Range(0, spec.Layers).Count(l => spec.MixerOf(l) is LayerMixer.Ssm or LayerMixer.AttentionAndSsm);
    }

    /// <summary>The recurrent-state bytes of one sequence over all SSM and linear-attention layers, on one tensor-parallel rank.</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="convType">The conv-state type (llama.cpp: F32; vLLM: the model dtype unless <c>mamba_cache_dtype</c> is set).</param>
    /// <param name="ssmType">The SSM-state type (llama.cpp: F32; vLLM: <c>mamba_ssm_cache_dtype</c>, by default the model dtype).</param>
    /// <param name="tensorParallel">The tensor-parallel degree.</param>
    /// <returns>SSM layers × (conv elements × conv type size + SSM elements × SSM type size), plus the same for the
    /// linear-attention layers; zero for a model with neither.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensorParallel"/> is not positive.</exception>
    public static ByteSize BytesPerSequence(ArchitectureSpec spec, DataType convType, DataType ssmType, int tensorParallel = 1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(convType);
        ArgumentNullException.ThrowIfNull(ssmType);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tensorParallel);
        var total = ByteSize.Zero;
        if (spec.Ssm is { } ssm)
        {
            var perLayer = convType.SizeOf(ConvStateElements(ssm, tensorParallel)) + ssmType.SizeOf(SsmStateElements(ssm, tensorParallel));
            total += perLayer * SsmLayers(spec);
        }

        if (spec.LinearAttention is { } linear)
        {
            var perLayer = convType.SizeOf(LinearConvStateElements(linear, tensorParallel)) + ssmType.SizeOf(LinearStateElements(linear, tensorParallel));
            total += perLayer * Enumerable.Range(0, spec.Layers).Count(l => spec.MixerOf(l) == LayerMixer.LinearAttention);
        }

        return total;
    }

    // vLLM extra_groups_for_head_shards: when tp does not divide n_groups, groups are replicated up to tp.
    private static long PaddedGroups(int groups, int tensorParallel) =>
        groups % tensorParallel == 0 ? groups : groups + (tensorParallel - groups);
}
