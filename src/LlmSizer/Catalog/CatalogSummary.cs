using LlmSizer.Errors;
using LlmSizer.Units;

namespace LlmSizer.Catalog;

/// <summary>One catalog model with its family and exact size, or the error that kept it from being counted.</summary>
/// <param name="Entry">The catalog entry.</param>
/// <param name="Family">The family (the config's <c>model_type</c> when it could not be read).</param>
/// <param name="Total">All parameters, or null on error.</param>
/// <param name="Active">Parameters per token, or null on error.</param>
/// <param name="Error">The error message, or null.</param>
public sealed record CatalogSummary(CatalogEntry Entry, string? Family, ParameterCount? Total, ParameterCount? Active, string? Error)
{
    /// <summary>The error without its <c>catalog:&lt;id&gt;: </c> prefix (the id is shown beside it), or null.</summary>
    public string? ErrorDetail
    {
        get
        {
            var prefix = $"catalog:{Entry.Id}: ";
            return Error is null ? null : Error.StartsWith(prefix, StringComparison.Ordinal) ? Error[prefix.Length..] : Error;
        }
    }

    /// <summary>Counts one entry; a family that is not supported gives a row with its error, not an exception.</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>The summary.</returns>
    public static CatalogSummary Of(CatalogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var family = entry.Config.String("model_type");
        try
        {
            var model = ModelResolver.Resolve(entry.Id);
            return new CatalogSummary(entry, model.Architecture?.Family ?? family, model.Inventory.TotalParameters, model.Inventory.ActiveParameters, null);
        }
        catch (LlmSizerException ex)
        {
            return new CatalogSummary(entry, family, null, null, ex.Message);
        }
    }
}
