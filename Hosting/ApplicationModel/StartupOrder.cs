namespace Catbird.Hosting.ApplicationModel;

/// <summary>Orders resources so that each starts after everything it waits for, references or lives on.</summary>
public static class StartupOrder
{
    /// <summary>The resources that must be up before <paramref name="resource"/>.</summary>
    public static IEnumerable<Resource> DependenciesOf(Resource resource) =>
        resource.Parameters.Cast<Resource>().Concat(resource.WaitsFor).Concat(resource.References)
            .Concat(resource.Parent is { } parent ? [parent] : []).Distinct();

    /// <summary>
    /// A topological order of <paramref name="resources"/> that keeps declaration order where dependencies allow.
    /// </summary>
    /// <exception cref="InvalidOperationException">A dependency cycle, or a dependency that was never declared.</exception>
    public static IReadOnlyList<Resource> Compute(IReadOnlyList<Resource> resources)
    {
        var declared = resources.ToHashSet();
        foreach (var resource in resources)
        {
            foreach (var dependency in DependenciesOf(resource))
            {
                if (!declared.Contains(dependency))
                {
                    throw new InvalidOperationException($"'{resource.Name}' depends on '{dependency.Name}', which is not part of this application.");
                }
            }
        }

        var order = new List<Resource>(resources.Count);
        var state = new Dictionary<Resource, bool>(); // false = visiting, true = done
        foreach (var resource in resources)
        {
            Visit(resource, state, order, []);
        }

        return order;
    }

    private static void Visit(Resource resource, Dictionary<Resource, bool> state, List<Resource> order, List<Resource> path)
    {
        if (state.TryGetValue(resource, out var done))
        {
            if (!done)
            {
                var cycle = path.SkipWhile(r => r != resource).Append(resource).Select(r => r.Name);
                throw new InvalidOperationException($"Dependency cycle: {string.Join(" -> ", cycle)}.");
            }

            return;
        }

        state[resource] = false;
        path.Add(resource);
        foreach (var dependency in DependenciesOf(resource))
        {
            Visit(dependency, state, order, path);
        }

        path.RemoveAt(path.Count - 1);
        state[resource] = true;
        order.Add(resource);
    }
}
