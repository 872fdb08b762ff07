using System.Text.RegularExpressions;
using LlmSizer.Errors;

namespace LlmSizer.Hub;

/// <summary>A model argument that names something remote: <c>hf:org/name</c>, <c>hf:org/name@revision</c>,
/// <c>hf:org/name/path/in/repo.gguf</c>, <c>hf:org/name-GGUF:Q4_K_M</c> (a quantization picked from the file list),
/// or an http(s) URL of a .gguf or .safetensors file.</summary>
/// <param name="Repo">The repository, <c>org/name</c>; null for a plain URL.</param>
/// <param name="Revision">The branch, tag or commit (default <c>main</c>).</param>
/// <param name="FilePath">A file in the repository, when one is named.</param>
/// <param name="Quant">A quantization to pick (<c>Q4_K_M</c>), when one is named.</param>
/// <param name="Url">The URL of a plain http(s) file.</param>
public sealed partial record HubModelReference(string? Repo, string Revision, string? FilePath, string? Quant, Uri? Url)
{
    /// <summary>The prefix of Hub ids.</summary>
    public const string Prefix = "hf:";

    /// <summary>True for arguments this reader handles (<c>hf:</c> ids and http(s) URLs); everything else is local.</summary>
    /// <param name="model">The model argument.</param>
    /// <returns>Whether it is remote.</returns>
    public static bool IsRemote(string? model) =>
        model is not null && (model.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            || model.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || model.StartsWith("http://", StringComparison.OrdinalIgnoreCase));

    /// <summary>The name to show: <c>org/name</c> with its revision, file or quantization; the URL's file name.</summary>
    public string DisplayName => Repo is null
        ? Uri.UnescapeDataString(Url!.Segments[^1])
        : Repo + (Revision == "main" ? "" : "@" + Revision) + (FilePath is null ? "" : "/" + FilePath) + (Quant is null ? "" : ":" + Quant);

    /// <summary>True when <see cref="Revision"/> is a full commit hash (immutable: cached answers need no revalidation).</summary>
    public bool RevisionIsCommit => CommitHash().IsMatch(Revision);

    /// <summary>Parses a remote model argument.</summary>
    /// <param name="model">The argument.</param>
    /// <returns>The reference.</returns>
    /// <exception cref="UnknownModelException">The argument is not a well-formed <c>hf:</c> id or http(s) URL.</exception>
    public static HubModelReference Parse(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(model, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Segments.Length < 2 || url.Segments[^1].EndsWith('/'))
            {
                throw new UnknownModelException($"MODEL: expected an http(s) URL of a .gguf or .safetensors file; found '{MessageText.Clean(model, 300)}'.");
            }

            if (!string.IsNullOrEmpty(url.UserInfo))
            {
                throw new UnknownModelException("MODEL: expected a URL without user:password (set HF_TOKEN for the Hub); found a URL with credentials.");
            }

            return new HubModelReference(null, "main", null, null, url);
        }

        var body = model[Prefix.Length..];
        string? quant = null;
        int colon = body.LastIndexOf(':');
        if (colon >= 0)
        {
            quant = body[(colon + 1)..];
            body = body[..colon];
            if (!QuantName().IsMatch(quant))
            {
                throw Bad(model, $"a quantization name such as Q4_K_M after ':'; found '{MessageText.Clean(quant, 80)}'");
            }
        }

        var parts = body.Split('/');
        if (parts.Length < 2)
        {
            throw Bad(model, "hf:org/name (the repository's owner, a slash, its name)");
        }

        string org = parts[0], name = parts[1], revision = "main";
        int at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            revision = name[(at + 1)..];
            name = name[..at];
            if (!RevisionName().IsMatch(revision) || revision.Contains("..", StringComparison.Ordinal))
            {
                throw Bad(model, $"a branch, tag or commit after '@' (letters, digits, '.', '_', '-'); found '{MessageText.Clean(revision, 80)}'");
            }
        }

        if (!RepoPart().IsMatch(org) || !RepoPart().IsMatch(name) || org.Contains("..", StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
        {
            throw Bad(model, "hf:org/name with letters, digits, '.', '_' and '-' in each part");
        }

        string? file = null;
        if (parts.Length > 2)
        {
            var rest = parts[2..];
            if (rest.Any(p => p.Length == 0 || p is "." or ".." || p.Any(char.IsControl) || p.Contains('\\', StringComparison.Ordinal)))
            {
                throw Bad(model, "a file path inside the repository (no empty, '.' or '..' parts)");
            }

            file = string.Join('/', rest);
        }

        if (file is not null && quant is not null)
        {
            throw Bad(model, "either a file path or a quantization (hf:org/name:Q4_K_M), not both");
        }

        return new HubModelReference(org + "/" + name, revision, file, quant, null);
    }

    private static UnknownModelException Bad(string model, string expected) =>
        new($"MODEL: '{MessageText.Clean(model, 300)}': expected {expected} (forms: hf:org/name, hf:org/name@revision, hf:org/name/file.gguf, hf:org/name-GGUF:Q4_K_M).");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$", RegexOptions.CultureInvariant)]
    private static partial Regex RepoPart();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex RevisionName();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,40}$", RegexOptions.CultureInvariant)]
    private static partial Regex QuantName();

    [GeneratedRegex("^[0-9a-f]{40}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitHash();
}
