using System.CommandLine;
using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Cli.Output;
using LlmSizer.Contract;
using LlmSizer.Explain;
using LlmSizer.Memory;
using Spectre.Console;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize params &lt;MODEL&gt;</c> or <c>llmsize params --layers ... --hidden ...</c>: the exact parameter
/// count, its breakdown, and optionally every tensor and a config-versus-checkpoint check.</summary>
internal sealed class ParamsCommand : ICliCommand
{
    private readonly Func<string, ModelInfo>? _resolve;
    private readonly Option<bool> _refresh = CommonOptions.Refresh();
    private readonly Argument<string?> _model = CommonOptions.ModelArgument(optional: true);
    private readonly Option<bool> _json = CommonOptions.Json();
    private readonly Option<bool> _tensors = new("--tensors") { Description = "List every tensor: name, shape, dtype, elements, bytes." };
    private readonly Option<bool> _layersDetail = new("--layers-detail") { Description = "Show parameters per layer." };
    private readonly Option<bool> _textOnly = new("--text-only") { Description = "Count the language model alone (a multimodal model without its vision tower, projector and audio encoder)." };
    private readonly Option<bool> _explain = new("--explain") { Description = "Derive every number the way the post \"Sizing an LLM: Parameters\" does: each group's formula in symbols, the values and their sources, the product, the sum, and the traps." };
    private readonly Option<bool> _check = new("--check") { Description = "Compare the tensors read from checkpoint files with those the config implies; exit 3 on any difference." };

    // Manual architecture flags. Numbers are read as text so that "abc" or "-3" is a bad flag value (exit 1, naming the
    // flag), like a bad config field, rather than a usage error.
    private readonly Option<string?> _layers = Number("--layers", "Transformer layers.");
    private readonly Option<string?> _hidden = Number("--hidden", "Hidden size (d_model).");
    private readonly Option<string?> _heads = Number("--heads", "Attention (query) heads.");
    private readonly Option<string?> _vocab = Number("--vocab", "Vocabulary size.");
    private readonly Option<string?> _kvHeads = Number("--kv-heads", "Key/value heads (GQA/MQA); default: --heads.");
    private readonly Option<string?> _intermediate = Number("--intermediate", "MLP intermediate size; default: 4 x --hidden.");
    private readonly Option<string?> _headDim = Number("--head-dim", "Per-head dimension; default: --hidden / --heads.");
    private readonly Option<string?> _maxPositions = Number("--max-positions", "Context length (rows of the position table with --learned-positions).");
    private readonly Option<string?> _experts = Number("--experts", "Routed experts per layer (MoE).");
    private readonly Option<string?> _topK = Number("--top-k", "Experts used per token (MoE).");
    private readonly Option<string?> _expertIntermediate = Number("--expert-intermediate", "Intermediate size of one expert; default: --intermediate.");
    private readonly Option<bool> _gated = new("--gated") { Description = "Gated 3-matrix MLP (SwiGLU) instead of 2 matrices." };
    private readonly Option<bool> _tied = new("--tied") { Description = "Output head shares the token embedding." };
    private readonly Option<bool> _bias = new("--bias") { Description = "Biases on every linear layer." };
    private readonly Option<bool> _learnedPositions = new("--learned-positions") { Description = "Learned absolute position embeddings (needs --max-positions)." };
    private readonly Option<string?> _norm = new Option<string?>("--norm") { Description = "Norm kind; default: layernorm for the 2-matrix dense layout, rmsnorm otherwise." }
        .AcceptOnlyFromAmong("layernorm", "rmsnorm");

    /// <summary>Creates the command.</summary>
    /// <param name="resolve">Turns MODEL into a model; <see cref="Sizer.Load(string)"/> by default (tests pass fakes).</param>
    public ParamsCommand(Func<string, ModelInfo>? resolve = null)
    {
        _resolve = resolve;
    }

    public Command Create(CliContext context)
    {
        var command = new Command("params", "Count a model's parameters exactly: total, active, groups, tensors.");
        CommonOptions.AddExamples(command,
            "llmsize params llama-3.1-8b",
            "llmsize params ./model-folder --check",
            "llmsize params mixtral-8x7b --explain",
            "llmsize params --layers 12 --hidden 768 --heads 12 --vocab 50257 --max-positions 1024 --learned-positions --bias --tied");
        command.Arguments.Add(_model);
        foreach (var option in new Option[]
        {
            _json, _refresh, _tensors, _layersDetail, _check, _textOnly, _explain, _layers, _hidden, _heads, _vocab, _kvHeads, _intermediate, _gated, _tied,
            _headDim, _bias, _norm, _maxPositions, _learnedPositions, _experts, _topK, _expertIntermediate,
        })
        {
            command.Options.Add(option);
        }

        command.SetAction(parseResult => Execute(context, parseResult));
        return command;
    }

    private int Execute(CliContext context, ParseResult parseResult)
    {
        var result = Sizer.Parameters(new ParametersRequest
        {
            Model = Model(context, parseResult),
            Check = parseResult.GetValue(_check),
            Tensors = parseResult.GetValue(_tensors),
            LayersDetail = parseResult.GetValue(_layersDetail),
            TextOnly = parseResult.GetValue(_textOnly),
        });
        if (parseResult.GetValue(_explain))
        {
            var explanation = Sizer.Explain(result);
            if (parseResult.GetValue(_json))
            {
                JsonOutput.Write(context.Out, ContractJson.Serialize(ExplainContract.Params(explanation)));
            }
            else
            {
                ExplainRendering.Write(context.Out, ExplainText.Lines(explanation));
            }
        }
        else if (parseResult.GetValue(_json))
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ContractMapper.Params(result)));
        }
        else
        {
            ParamsRendering.WriteTables(context.Console, result);
        }

        foreach (var warning in result.Model.Warnings)
        {
            context.Error.WriteLine("warning: " + warning);
        }

        return result.Check is { IsMatch: false } ? ExitCodes.DoesNotFit : ExitCodes.Success;
    }

    private ModelRequest Model(CliContext context, ParseResult parseResult)
    {
        var modelArg = parseResult.GetValue(_model);
        var manualFlags = new[] { _layers, _hidden, _heads, _vocab, _kvHeads, _intermediate, _headDim, _maxPositions, _experts, _topK, _expertIntermediate, _norm }
            .Where(o => parseResult.GetResult(o) is not null).Select(o => o.Name)
            .Concat(new[] { _gated, _tied, _bias, _learnedPositions }.Where(o => parseResult.GetValue(o)).Select(o => o.Name))
            .ToList();
        if (modelArg is not null)
        {
            // An unknown flag lands in the optional MODEL argument; report it as the usage error it is.
            if (modelArg.StartsWith('-') && !File.Exists(modelArg) && !Directory.Exists(modelArg))
            {
                throw new UsageException($"Unrecognized command or argument '{modelArg}'. (see 'llmsize params --help')");
            }

            if (manualFlags.Count > 0)
            {
                throw new UsageException($"give either MODEL ('{modelArg}') or manual architecture flags ({string.Join(", ", manualFlags)}), not both.");
            }

            return new ModelRequest { Loaded = _resolve?.Invoke(modelArg) ?? CliModels.Load(context, modelArg, parseResult.GetValue(_refresh), parseResult.GetValue(_json)) };
        }

        if (manualFlags.Count == 0)
        {
            throw new UsageException("params: expected a MODEL (catalog id, config.json, folder) or manual flags --layers --hidden --heads --vocab (see 'llmsize params --help').");
        }

        return new ModelRequest
        {
            Manual = new ManualArchitecture
            {
                Layers = Required(parseResult, _layers, SettingNames.Layers),
                Hidden = Required(parseResult, _hidden, SettingNames.Hidden),
                Heads = Required(parseResult, _heads, SettingNames.Heads),
                Vocab = Required(parseResult, _vocab, SettingNames.Vocab),
                KvHeads = Optional(parseResult, _kvHeads, SettingNames.KvHeads),
                Intermediate = Optional(parseResult, _intermediate, SettingNames.Intermediate),
                HeadDim = Optional(parseResult, _headDim, SettingNames.HeadDim),
                MaxPositions = Optional(parseResult, _maxPositions, SettingNames.MaxPositions),
                Experts = Optional(parseResult, _experts, SettingNames.Experts),
                TopK = Optional(parseResult, _topK, SettingNames.TopK),
                ExpertIntermediate = Optional(parseResult, _expertIntermediate, SettingNames.ExpertIntermediate),
                Gated = parseResult.GetValue(_gated),
                Tied = parseResult.GetValue(_tied),
                Bias = parseResult.GetValue(_bias),
                LearnedPositions = parseResult.GetValue(_learnedPositions),
                Norm = parseResult.GetValue(_norm) switch
                {
                    "layernorm" => NormKind.LayerNorm,
                    "rmsnorm" => NormKind.RmsNorm,
                    _ => null,
                },
            },
        };
    }

    private static Option<string?> Number(string name, string description) => new(name) { Description = description, HelpName = "N" };

    private static int Required(ParseResult parseResult, Option<string?> option, string setting) =>
        Optional(parseResult, option, setting)
        ?? ManualArchitecture.Missing(setting);

    private static int? Optional(ParseResult parseResult, Option<string?> option, string setting)
    {
        var text = parseResult.GetValue(option);
        return text is null ? null : ManualArchitecture.ParseDimension(setting, text);
    }
}
